namespace Platform.Orchestrator.Runs;

/// <summary>
/// The types of a run's events, as its log, its stream and its webhooks name them: clients match on these strings,
/// so they never change once shipped.
/// </summary>
public static class RunEventTypes
{
    public const string RunQueued = "run.queued";
    public const string RunPlanning = "run.planning";
    public const string RunPlanned = "run.planned";
    public const string RunStarted = "run.started";
    public const string RunReplanned = "run.replanned";
    public const string RunWaitingApproval = "run.waiting_approval";
    public const string RunRetried = "run.retried";
    public const string RunSucceeded = "run.succeeded";
    public const string RunFailed = "run.failed";
    public const string RunCancelled = "run.cancelled";
    public const string RunTimedOut = "run.timed_out";

    public const string StepStarted = "step.started";
    public const string StepSucceeded = "step.succeeded";
    public const string StepRetrying = "step.retrying";
    public const string StepFailed = "step.failed";
    public const string StepWaitingApproval = "step.waiting_approval";
    public const string StepApproved = "step.approved";
    public const string StepDenied = "step.denied";
    public const string StepCompensated = "step.compensated";
    public const string StepCompensationFailed = "step.compensation_failed";

    /// <summary>The event that ends a run in <paramref name="state"/>, one of the terminal <see cref="RunStates"/>.</summary>
    public static string RunEnded(string state) => state switch
    {
        RunStates.Succeeded => RunSucceeded,
        RunStates.Failed => RunFailed,
        RunStates.Cancelled => RunCancelled,
        RunStates.TimedOut => RunTimedOut,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "A run ends only succeeded, failed, cancelled or timed out."),
    };

    /// <summary>Whether an event of this type is the run's last: a stream ends after it.</summary>
    public static bool EndsRun(string type) => type is RunSucceeded or RunFailed or RunCancelled or RunTimedOut;
}
