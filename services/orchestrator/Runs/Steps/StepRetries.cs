namespace Platform.Orchestrator.Runs.Steps;

/// <summary>
/// What follows a failed attempt: another one after exponential backoff while the agent's attempts last, unless the
/// failure is final or the same call would fail the same way (<see cref="StepOutcome.Failed.Retryable"/>); then the
/// step fails at once, to be planned around unless it is final.
/// </summary>
public static class StepRetries
{
    public static RetryDecision After(StepOutcome.Failed failed, int attempt, RunAgentRetries retries)
    {
        var retry = !failed.Final && failed.Retryable && attempt < retries.MaxAttempts;
        return new RetryDecision(retry, retry ? Backoff(retries, attempt) : TimeSpan.Zero, !failed.Final, failed.Retryable && !failed.Final);
    }

    /// <summary>The wait before asking again after <paramref name="failures"/> failures: the agent's backoff, doubled each time.</summary>
    public static TimeSpan Backoff(RunAgentRetries retries, int failures) => TimeSpan.FromSeconds(retries.BackoffSeconds * Math.Pow(2, failures - 1));
}

/// <summary>
/// Whether to try the step again and after how long; once it is not, whether a re-plan may work around it, and whether
/// another attempt could have helped at all (<paramref name="Retryable"/>, recorded so the log says why none came).
/// </summary>
public readonly record struct RetryDecision(bool Retry, TimeSpan Delay, bool Replannable, bool Retryable);
