using Platform.Planning.Plans;

namespace Platform.Planning.Planner;

/// <summary>
/// Everything the LLM planner is told: the goal and constraints, the tools, and when re-planning what ran; and the
/// caller's idempotency key, which names its gateway calls.
/// </summary>
public sealed record PlanningJob(
    string Goal,
    string? Context,
    string Model,
    int MaxSteps,
    decimal? BudgetUsd,
    DateTimeOffset? Deadline,
    IReadOnlyDictionary<string, ToolInfo> Tools,
    IReadOnlyList<PlanStep>? PreviousSteps,
    IReadOnlyList<CompletedStep> Completed,
    FailedStep? Failed,
    string? IdempotencyKey);
