using System.Diagnostics.Metrics;
using Dapper;
using Npgsql;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// Runs as Prometheus sees them: active runs by state, the queue of due runs no replica holds and how long the oldest
/// has waited (read from PostgreSQL every <see cref="Refresh"/>, the same on every replica: aggregate them with max),
/// and runs accepted and ended by this replica (counters: aggregate with sum).
/// </summary>
public sealed partial class RunMetrics : BackgroundService
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(15);
    private static readonly Meter Meter = new(Microsoft.Extensions.Hosting.Extensions.PlatformSourceName);
    private static readonly Counter<long> Accepted = Meter.CreateCounter<long>("platform.runs.accepted", "{run}", "Runs accepted by this replica");
    private static readonly Counter<long> Ended = Meter.CreateCounter<long>("platform.runs.ended", "{run}", "Runs this replica ended, by final state");

    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger<RunMetrics> _logger;
    private Snapshot _last = new([], 0, 0);

    public RunMetrics(NpgsqlDataSource dataSource, ILogger<RunMetrics> logger)
    {
        (_dataSource, _logger) = (dataSource, logger);
        Meter.CreateObservableGauge("platform.runs.active", () => _last.ByState.Select(s => new Measurement<long>(s.Count, new KeyValuePair<string, object?>("state", s.State))),
            "{run}", "Runs not yet ended, by state");
        Meter.CreateObservableGauge("platform.runs.queue.depth", () => _last.QueueDepth, "{run}", "Runs due to be worked on that no replica holds");
        Meter.CreateObservableGauge("platform.runs.queue.oldest_age", () => _last.OldestSeconds, "s", "How long the longest-waiting due run has waited for a replica");
    }

    public static void RunAccepted() => Accepted.Add(1);

    public static void RunEnded(string state) => Ended.Add(1, new KeyValuePair<string, object?>("state", state));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Refresh);
        do
        {
            try
            {
                _last = await ReadAsync(stoppingToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogNotRead(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<Snapshot> ReadAsync(CancellationToken cancellationToken)
    {
        // A read every few seconds is not something to trace: it would bury the requests in the trace view.
        using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        using var results = await connection.QueryMultipleAsync(new CommandDefinition("""
            SELECT state, count(*) AS count FROM runs WHERE state IN ('queued', 'planning', 'running', 'waiting_approval') GROUP BY state;
            SELECT count(*), COALESCE(EXTRACT(EPOCH FROM now() - min(wake_at)), 0)::float8
            FROM runs
            WHERE state IN ('queued', 'planning', 'running', 'waiting_approval') AND wake_at <= now() AND (lease_owner IS NULL OR lease_until < now());
            """, cancellationToken: cancellationToken));
        var byState = (await results.ReadAsync<(string State, long Count)>()).ToList();
        var (depth, oldest) = await results.ReadSingleAsync<(long, double)>();
        return new Snapshot(byState, depth, oldest);
    }

    [LoggerMessage(LogLevel.Warning, "Run metrics not refreshed")]
    private partial void LogNotRead(Exception exception);

    private sealed record Snapshot(List<(string State, long Count)> ByState, long QueueDepth, double OldestSeconds);
}
