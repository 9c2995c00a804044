using System.Text.Json.Nodes;

namespace Platform.Planning.Plans;

/// <summary>One revision of a plan, as the API shows it.</summary>
public sealed record PlanDto(
    Guid Id,
    int Revision,
    string Goal,
    string? Context,
    string Model,
    string[]? Tools,
    ConstraintsDto Constraints,
    PlanStep[] Steps,
    string[][] Layers,
    string[] CriticalPath,
    PlanTotals? Totals,
    PlannerInfo Planner,
    CompletedStep[] Completed,
    FailedStep? Failed,
    PlanChanges? Changes,
    DateTime CreatedAt,
    DateTime RevisedAt);

public sealed record ConstraintsDto(int MaxSteps, decimal? BudgetUsd, DateTimeOffset? Deadline);

/// <summary>A validated step. <c>Arguments</c> may hold templates such as <c>{{steps.fetch.output.temperature}}</c>.</summary>
public sealed record PlanStep(
    string Id,
    string Title,
    string Instruction,
    string Kind,
    string? Tool,
    JsonObject Arguments,
    string[] DependsOn,
    string? Acceptance,
    StepEstimates? Estimates);

public sealed record StepEstimates(int Tokens, decimal Usd, int DurationMs);

/// <summary>Tokens and USD summed over the steps; the duration is the critical path's, since layers run in parallel.</summary>
public sealed record PlanTotals(int Tokens, decimal Usd, long DurationMs);

/// <summary>Who wrote the steps: <c>manual</c> (the caller) or <c>llm</c> (through the model gateway, in so many attempts).</summary>
public sealed record PlannerInfo(string Kind, string? Model, int Attempts, int? PromptTokens, int? CompletionTokens, string[]? Repairs);

/// <summary>Step ids added, removed and changed since the previous revision.</summary>
public sealed record PlanChanges(string[] Added, string[] Removed, string[] Changed);
