using Platform.ServiceDefaults.Data;
using StackExchange.Redis;

namespace Platform.Orchestrator.Tenants;

/// <summary>Re-announces deleted tenants from PostgreSQL, so a flushed Redis never leaves a tenant's data unpurged.</summary>
internal sealed class DeletedTenantsAnnouncer(TenantStore tenants, DeletedTenants deleted, ILogger<DeletedTenantsAnnouncer> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                foreach (var tenant in await tenants.DeletedAsync(stoppingToken))
                {
                    await deleted.AnnounceAsync(tenant.Id, tenant.PurgeAfter!.Value);
                }
            }
            catch (Exception e) when (e is RedisException or Npgsql.NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Announcing deleted tenants failed; retrying in {Interval}", Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
