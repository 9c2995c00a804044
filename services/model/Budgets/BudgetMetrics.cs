using System.Diagnostics.Metrics;
using System.Globalization;
using Dapper;
using Npgsql;
using StackExchange.Redis;

namespace Platform.Model.Budgets;

/// <summary>
/// <c>platform.model.budget.utilization</c>: each tenant-wide budget's spend so far as a fraction of it, by tenant and
/// period (day, month), read every <see cref="Refresh"/> from the budgets and the spend counters the gateway keeps.
/// What an alert on a tenant near its budget reads; the same on every replica, so aggregate with max.
/// </summary>
public sealed partial class BudgetMetrics : BackgroundService
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(30);
    private static readonly Meter Meter = new(Microsoft.Extensions.Hosting.Extensions.PlatformSourceName);

    private readonly NpgsqlDataSource _dataSource;
    private readonly IConnectionMultiplexer _redis;
    private readonly TimeProvider _time;
    private readonly ILogger<BudgetMetrics> _logger;
    private List<Measurement<double>> _last = [];

    public BudgetMetrics(NpgsqlDataSource dataSource, IConnectionMultiplexer redis, TimeProvider time, ILogger<BudgetMetrics> logger)
    {
        (_dataSource, _redis, _time, _logger) = (dataSource, redis, time, logger);
        Meter.CreateObservableGauge("platform.model.budget.utilization", () => _last, "1", "A tenant's spend this day or month as a fraction of its budget");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Refresh);
        do
        {
            try
            {
                _last = await ReadAsync();
            }
            catch (Exception e) when (e is NpgsqlException or RedisException or TimeoutException)
            {
                LogNotRead(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<List<Measurement<double>>> ReadAsync()
    {
        // A read every few seconds is not something to trace: it would bury the requests in the trace view.
        using var untraced = OpenTelemetry.SuppressInstrumentationScope.Begin();
        await using var connection = await _dataSource.OpenConnectionAsync();
        var budgets = (await connection.QueryAsync<(string TenantId, decimal? DailyUsd, decimal? MonthlyUsd)>(
            "SELECT tenant_id, daily_usd, monthly_usd FROM budgets WHERE key_id = '' AND (daily_usd IS NOT NULL OR monthly_usd IS NOT NULL)")).ToList();
        var now = _time.GetUtcNow();
        var day = now.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var month = now.ToString("yyyyMM", CultureInfo.InvariantCulture);
        var measurements = new List<Measurement<double>>();
        foreach (var (tenantId, dailyUsd, monthlyUsd) in budgets)
        {
            var spent = await _redis.GetDatabase().StringGetAsync([$"model:spend:{tenantId}::day:{day}", $"model:spend:{tenantId}::month:{month}"]);
            foreach (var (period, budget, microUsd) in new[] { ("day", dailyUsd, spent[0]), ("month", monthlyUsd, spent[1]) })
            {
                if (budget is > 0)
                {
                    measurements.Add(new Measurement<double>((microUsd.IsNull ? 0 : (long)microUsd) / 1_000_000d / (double)budget.Value,
                        new KeyValuePair<string, object?>("tenant", tenantId), new KeyValuePair<string, object?>("period", period)));
                }
            }
        }

        return measurements;
    }

    [LoggerMessage(LogLevel.Warning, "Budget metrics not refreshed")]
    private partial void LogNotRead(Exception exception);
}
