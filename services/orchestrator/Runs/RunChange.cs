using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// Everything one transition of a run writes: the run's own fields, new and changed steps, the events that say what
/// happened, a webhook delivery and the run key's revocation. <see cref="RunStore.CommitAsync"/> writes it in one
/// statement, so a run is never seen half way through a transition and its events always match its state.
/// </summary>
public sealed class RunChange
{
    public string? State { get; init; }
    public string? Reason { get; init; }
    public JsonNode? Output { get; init; }
    public Guid? PlanId { get; init; }
    public int? PlanRevision { get; init; }
    public int Replans { get; init; }
    public decimal CostUsd { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    public bool ClearCancel { get; init; }
    public bool Finished { get; init; }

    /// <summary>Gives the lease up: the run waits (for an approval, a backoff) or has ended.</summary>
    public bool Release { get; init; }

    public DateTime? WakeAt { get; init; }
    public bool RevokeKey { get; init; }

    /// <summary>Opens an ended run again (a retry) with a deadline this many seconds away.</summary>
    public int? Reopen { get; init; }

    /// <summary>A key replacing the run's revoked one.</summary>
    public RunKey? NewKey { get; init; }

    /// <summary>The run as a webhook announces it; queued for delivery when the run has a webhook URL.</summary>
    public JsonObject? Webhook { get; init; }

    public List<NewStep> NewSteps { get; } = [];
    public List<StepChange> Steps { get; } = [];
    public List<NewEvent> Events { get; } = [];
}

/// <summary>
/// A planned step; one that already exists and has not succeeded is replaced by it (a re-plan). With
/// <see cref="Started"/> it is written running, its first attempt started at the commit's time.
/// </summary>
public sealed record NewStep(
    string Id, int Position, string Kind, string Title, string Instruction, string? Tool, JsonObject? Arguments, string[] DependsOn, string? Acceptance,
    JsonObject? Compensation)
{
    public bool Started { get; init; }
}

public sealed class StepChange
{
    public required string Id { get; init; }
    public string? State { get; init; }
    public int? Attempts { get; init; }

    /// <summary>An attempt's record, appended to the step's attempt log.</summary>
    public JsonObject? Attempt { get; init; }

    public JsonNode? Output { get; init; }
    public string? Error { get; init; }
    public bool ClearError { get; init; }
    public bool? Replannable { get; init; }
    public string? CompensationState { get; init; }
    public string? CompensationError { get; init; }

    /// <summary>Forgets a compensation's outcome: a retried run may need it again.</summary>
    public bool ClearCompensation { get; init; }
    public Guid? InvocationId { get; init; }
    public decimal CostUsd { get; init; }
    public int PromptTokens { get; init; }
    public int CompletionTokens { get; init; }
    /// <summary>An attempt starts: the step's start is the commit's time, the time its dependencies' ends carry too.</summary>
    public bool Started { get; init; }
    public bool Finished { get; init; }
}

public sealed record NewEvent(string Type, string? StepId, JsonObject Data);

/// <summary>Who may write a run: the replica holding its lease, or (for the API) anyone while nobody holds one.</summary>
public sealed record RunWriter(string? Owner, string[] FromStates)
{
    public static RunWriter Leaseholder(string owner) => new(owner, []);

    public static RunWriter Unleased(params string[] fromStates) => new(null, fromStates);
}
