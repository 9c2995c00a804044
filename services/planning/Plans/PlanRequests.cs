using System.Text.Json.Nodes;

namespace Platform.Planning.Plans;

/// <summary>
/// <c>POST /v1/plans</c>. <c>Tools</c> absent means every tool the tenant can see; <c>Planner</c> absent means
/// <c>manual</c> when steps are given and <c>llm</c> otherwise.
/// </summary>
public sealed record CreatePlanRequest(
    string? Goal,
    string? Context,
    IReadOnlyList<string?>? Tools,
    PlanConstraints? Constraints,
    string? Model,
    string? Planner,
    IReadOnlyList<StepInput?>? Steps);

public sealed record PlanConstraints(int? MaxSteps, decimal? BudgetUsd, DateTimeOffset? Deadline);

/// <summary>A step as a caller or a planner wrote it, before validation.</summary>
public sealed record StepInput(
    string? Id,
    string? Title,
    string? Instruction,
    string? Kind,
    string? Tool,
    JsonNode? Arguments,
    IReadOnlyList<string?>? DependsOn,
    string? Acceptance);

/// <summary>
/// <c>POST /v1/plans/{id}/revisions</c>: what ran since the latest revision. <c>Revision</c>, when given, is the
/// revision the caller saw; a plan revised since is a 409.
/// </summary>
public sealed record ReviseRequest(
    IReadOnlyList<CompletedStep?>? Completed,
    FailedStep? Failed,
    int? Revision,
    string? Planner,
    IReadOnlyList<StepInput?>? Steps);

public sealed record CompletedStep(string? StepId, JsonNode? Output);

public sealed record FailedStep(string? StepId, string? Observation);
