using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Platform.Orchestrator.Runs.Execution;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// Each replica's share of the work: runs it accepted itself start at once; others (a crashed replica's, a parked
/// run whose decision came, a backoff that ended) are claimed when due, at a wake-up or the next poll. It renews the
/// leases of what it holds in one statement, and stops what it no longer holds or was asked to cancel.
/// </summary>
public sealed partial class RunWorker(RunStore store, RunExecutor executor, RunSignals signals, IOptions<RunOptions> options, TimeProvider time,
    ILogger<RunWorker> logger) : BackgroundService
{
    private readonly RunOptions _options = options.Value;
    private readonly ConcurrentDictionary<Guid, RunControl> _held = new();
    private readonly SemaphoreSlim _wake = new(0);
    private int _reserved;

    /// <summary>The last claim took as many runs as there was room for, or there was none: more may be waiting.</summary>
    private volatile bool _mayHaveLeftWork;
    private CancellationToken _stopping;

    /// <summary>This replica's name on the leases it holds: distinct per process, so a restarted replica never mistakes an old lease for its own.</summary>
    public string Owner { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>A place for a run this replica is accepting; false when it is full (the run is then claimed by whoever has room).</summary>
    public bool TryReserve()
    {
        if (Interlocked.Increment(ref _reserved) + _held.Count <= _options.MaxConcurrentRuns && !_stopping.IsCancellationRequested)
        {
            return true;
        }

        Interlocked.Decrement(ref _reserved);
        return false;
    }

    public void Unreserve() => Interlocked.Decrement(ref _reserved);

    /// <summary>Starts a run this replica accepted and holds (its reservation becomes the run's place).</summary>
    public void StartAccepted(RunRow run)
    {
        Interlocked.Decrement(ref _reserved);
        Start(run, []);
    }

    public void Wake() => _wake.Release();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        signals.OnWake(Wake);
        signals.OnApprovalDecided(runId => _ = WakeParkedAsync(runId));
        signals.OnCancel(runId =>
        {
            if (_held.TryGetValue(runId, out var control))
            {
                control.Cancel(requested: true);
            }
        });

        var renewing = RenewLeasesAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var room = _options.MaxConcurrentRuns - _held.Count - Volatile.Read(ref _reserved);
                var claimed = room > 0 ? await store.ClaimAsync(Owner, room, _options.Lease) : [];
                _mayHaveLeftWork = claimed.Count >= room;
                foreach (var run in claimed)
                {
                    Start(run, await store.StepsAsync(run.Id));
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
            {
                LogClaimFailed(e);
            }

            try
            {
                await _wake.WaitAsync(_options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        await renewing;
        await Task.WhenAll(_held.Values.Select(c => c.Finished));
    }

    private void Start(RunRow run, IReadOnlyList<StepRow> steps)
    {
        var control = new RunControl(run.Deadline, time, _stopping);
        _held[run.Id] = control;
        control.Finished = Task.Run(async () =>
        {
            try
            {
                await executor.ExecuteAsync(run, steps, Owner, control);
            }
            catch (Exception e)
            {
                // The lease lapses and another replica, or this one, takes the run up again from its last commit.
                LogRunCrashed(e, run.Id);
            }
            finally
            {
                _held.TryRemove(run.Id, out _);
                control.Dispose();
                if (_mayHaveLeftWork)
                {
                    // The last claim had no room for all there was: this run's place goes to the next at once.
                    _wake.Release();
                }
            }
        });
    }

    private async Task WakeParkedAsync(Guid runId)
    {
        try
        {
            await store.WakeAsync(runId);
            Wake();
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
        {
            LogClaimFailed(e);
        }
    }

    private async Task RenewLeasesAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.Lease / 3, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var held = _held.Keys.ToList();
                if (held.Count == 0)
                {
                    continue;
                }

                try
                {
                    var renewed = (await store.RenewAsync(Owner, held, _options.Lease)).ToDictionary(r => r.Id, r => r.CancelRequested);
                    foreach (var runId in held)
                    {
                        if (_held.TryGetValue(runId, out var control) && (!renewed.TryGetValue(runId, out var cancel) || cancel))
                        {
                            control.Cancel(requested: renewed.ContainsKey(runId));
                        }
                    }
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException)
                {
                    LogRenewFailed(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    [LoggerMessage(LogLevel.Warning, "Claiming due runs failed; trying again at the next poll")]
    private partial void LogClaimFailed(Exception exception);

    [LoggerMessage(LogLevel.Warning, "Renewing run leases failed; runs held longer than the lease may resume elsewhere")]
    private partial void LogRenewFailed(Exception exception);

    [LoggerMessage(LogLevel.Error, "Run {RunId} stopped with an unexpected error; it resumes when its lease lapses")]
    private partial void LogRunCrashed(Exception exception, Guid runId);
}
