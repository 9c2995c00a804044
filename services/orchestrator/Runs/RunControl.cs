namespace Platform.Orchestrator.Runs;

/// <summary>Why a run's execution on this replica is being stopped, which decides how it ends.</summary>
public sealed class RunControl : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly CancellationToken _stopping;

    public RunControl(DateTime deadline, TimeProvider time, CancellationToken stopping)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _stopping = stopping;
        Deadline = deadline;
        Time = time;
        var remaining = deadline - time.GetUtcNow().UtcDateTime;
        if (remaining > TimeSpan.Zero && remaining < TimeSpan.FromDays(1))
        {
            _source.CancelAfter(remaining);
        }
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The execution's task, which a stopping replica waits for.</summary>
    public Task Finished { get; set; } = Task.CompletedTask;

    public DateTime Deadline { get; }

    private TimeProvider Time { get; }

    public bool CancelRequested { get; private set; }

    public bool Stopping => _stopping.IsCancellationRequested;

    public bool DeadlinePassed => Time.GetUtcNow().UtcDateTime >= Deadline;

    /// <summary>A cancel asked for through the API, or a lease this replica no longer holds.</summary>
    public void Cancel(bool requested)
    {
        CancelRequested |= requested;
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The execution has just ended.
        }
    }

    public void Dispose() => _source.Dispose();
}
