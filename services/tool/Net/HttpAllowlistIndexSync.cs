using StackExchange.Redis;

namespace Platform.Tool.Net;

/// <summary>Rebuilds the allowlist index at start and every few minutes, as the API key index is.</summary>
internal sealed class HttpAllowlistIndexSync(HttpAllowlist allowlist, ILogger<HttpAllowlistIndexSync> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await allowlist.RebuildIndexAsync(stoppingToken);
            }
            catch (Exception e) when (e is RedisException or Npgsql.NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Rebuilding the HTTP allowlist index failed; retrying in {Interval}", Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
