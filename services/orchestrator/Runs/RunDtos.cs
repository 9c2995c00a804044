using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs;

/// <summary>A run as the API shows it, with its steps and their attempts.</summary>
public sealed record RunDto(
    Guid Id,
    string Agent,
    int AgentVersion,
    string State,
    string? Reason,
    string Goal,
    JsonNode? Input,
    JsonNode? Metadata,
    string? WebhookUrl,
    Guid? PlanId,
    int? PlanRevision,
    int Replans,
    JsonNode? Output,
    RunUsageDto Usage,
    int LastEventSeq,
    string CreatedBy,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    DateTime? FinishedAt,
    DateTime Deadline,
    IReadOnlyList<StepDto> Steps)
{
    public static RunDto From(RunRow run, IReadOnlyList<StepRow> steps) => new(
        run.Id, run.Agent, run.AgentVersion, run.State, run.Reason, run.Goal, RunJson.Parse(run.Input), RunJson.Parse(run.Metadata), run.WebhookUrl,
        run.PlanId, run.PlanRevision, run.Replans, RunJson.Parse(run.Output), new RunUsageDto(run.PromptTokens, run.CompletionTokens, run.CostUsd), run.EventSeq,
        run.CreatedBy, run.CreatedAt, run.UpdatedAt, run.FinishedAt, run.Deadline, [.. steps.Select(StepDto.From)]);
}

public sealed record RunUsageDto(int PromptTokens, int CompletionTokens, decimal CostUsd);

public sealed record StepDto(
    string Id,
    string Kind,
    string Title,
    string Instruction,
    string? Tool,
    JsonNode? Arguments,
    IReadOnlyList<string> DependsOn,
    string? Acceptance,
    string State,
    int Attempts,
    JsonNode? AttemptLog,
    JsonNode? Output,
    string? Error,
    Guid? InvocationId,
    CompensationDto? Compensation,
    RunUsageDto Usage,
    DateTime? StartedAt,
    DateTime? FinishedAt)
{
    public static StepDto From(StepRow step) => new(
        step.Id, step.Kind, step.Title, step.Instruction, step.Tool, RunJson.Parse(step.Arguments), step.DependsOn, step.Acceptance, step.State,
        step.Attempts, RunJson.Parse(step.AttemptLog), RunJson.Parse(step.Output), step.Error, step.InvocationId,
        RunJson.Parse(step.Compensation) is { } compensation
            ? new CompensationDto(compensation["tool"]!.GetValue<string>(), compensation["arguments"]?.DeepClone(), step.CompensationState, step.CompensationError)
            : null,
        new RunUsageDto(step.PromptTokens, step.CompletionTokens, step.CostUsd), step.StartedAt, step.FinishedAt);
}

/// <summary>The call that undoes a step, and (once the run failed after it) whether it did.</summary>
public sealed record CompensationDto(string Tool, JsonNode? Arguments, string? State, string? Error);

/// <summary>A run in a list: no steps, input or output.</summary>
public sealed record RunSummaryDto(
    Guid Id, string Agent, int AgentVersion, string State, string? Reason, string Goal, RunUsageDto Usage, string CreatedBy, DateTime CreatedAt, DateTime? FinishedAt)
{
    public static RunSummaryDto From(RunRow run) => new(
        run.Id, run.Agent, run.AgentVersion, run.State, run.Reason, run.Goal, new RunUsageDto(run.PromptTokens, run.CompletionTokens, run.CostUsd),
        run.CreatedBy, run.CreatedAt, run.FinishedAt);
}
