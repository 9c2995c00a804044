namespace Platform.Orchestrator.Runs;

/// <summary><c>Runs:*</c> configuration.</summary>
public sealed class RunOptions
{
    /// <summary>How long a replica holds a run without renewing; a crashed replica's runs resume elsewhere after it.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often an idle worker looks for due runs when no wake-up arrives.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often a run parked for a tool call's approval asks again if the decision's wake-up was missed.</summary>
    public TimeSpan ApprovalRecheck { get; set; } = TimeSpan.FromSeconds(30);

    public int MaxConcurrentRuns { get; set; } = 64;

    public int MaxParallelStepsPerRun { get; set; } = 4;

    /// <summary>Steps of one tenant running at once on one replica, so one tenant's burst leaves room for others.</summary>
    public int MaxConcurrentStepsPerTenant { get; set; } = 32;

    /// <summary>A backoff longer than this gives the lease up and sets the run's wake time instead of waiting in memory.</summary>
    public TimeSpan LongestInMemoryWait { get; set; } = TimeSpan.FromSeconds(30);
}
