using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Authentication;
using StackExchange.Redis;

namespace Platform.Orchestrator.Tenants;

/// <summary>
/// Registers the bootstrap admin key, then rebuilds the Redis key index (and the set of active tenants) from Postgres at
/// start and every minute, so a flushed or replaced Redis heals itself. The service reports ready only after the first rebuild.
/// </summary>
public sealed class ApiKeyIndexSync(
    ApiKeyStore keys, TenantStore tenants, ActiveTenants activeTenants, IOptions<BootstrapOptions> bootstrap, ILogger<ApiKeyIndexSync> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private readonly TaskCompletionSource _firstSync = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_firstSync.Task.IsCompleted)
                {
                    await keys.EnsureBootstrapKeyAsync(bootstrap.Value.BootstrapAdminKey);
                }

                var count = await keys.SyncIndexAsync(stoppingToken);
                await tenants.SyncActiveAsync(activeTenants, stoppingToken);
                if (_firstSync.TrySetResult())
                {
                    logger.LogInformation("API key index rebuilt with {Count} active keys", count);
                }
            }
            catch (Exception e) when (e is Npgsql.NpgsqlException or RedisException or TimeoutException)
            {
                logger.LogWarning("API key index rebuild failed ({Message}); retrying", e.Message);
                await Task.Delay(_firstSync.Task.IsCompleted ? Interval : TimeSpan.FromSeconds(1), stoppingToken);
                continue;
            }

            await Task.Delay(Interval, stoppingToken);
        }
    }

    public sealed class HealthCheck(ApiKeyIndexSync sync) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(sync._firstSync.Task.IsCompleted
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The API key index has not been built yet."));
    }
}
