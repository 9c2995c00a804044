using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Data;

/// <summary>
/// Deleted tenants as the orchestrator announces them: a Redis sorted set of tenant ids scored by the time (Unix
/// seconds) after which every service may purge their data. The orchestrator re-announces them from PostgreSQL.
/// </summary>
public sealed class DeletedTenants(IConnectionMultiplexer redis)
{
    private static readonly RedisKey Key = "platform:tenants:deleted";
    private static readonly RedisChannel Announcements = RedisChannel.Literal("platform:tenants:deleted");

    /// <summary>Records the deletion and wakes every service's purge, which would otherwise run at its next tick.</summary>
    public async Task AnnounceAsync(string tenantId, DateTimeOffset purgeAfter)
    {
        await redis.GetDatabase().SortedSetAddAsync(Key, tenantId, purgeAfter.ToUnixTimeSeconds());
        await redis.GetSubscriber().PublishAsync(Announcements, tenantId);
    }

    public void OnAnnounced(Action handler) => redis.GetSubscriber().Subscribe(Announcements, (_, _) => handler());

    public async Task<string[]> DueAsync(DateTimeOffset now) =>
        [.. (await redis.GetDatabase().SortedSetRangeByScoreAsync(Key, double.NegativeInfinity, now.ToUnixTimeSeconds())).Select(v => v.ToString())];
}

/// <summary>
/// Deletes the rows of tenants whose retention has passed from the tables a service names (each has a
/// <c>tenant_id</c> column). Deleting is idempotent, so every replica may run it and a missed run is caught up.
/// </summary>
internal sealed class TenantPurgeService(
    DeletedTenants deleted, NpgsqlDataSource dataSource, IReadOnlyList<string> tables, TimeProvider time, IConfiguration configuration,
    ILogger<TenantPurgeService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Tenants:PurgeInterval", TimeSpan.FromMinutes(10));
        using var wake = new SemaphoreSlim(0);
        try
        {
            deleted.OnAnnounced(() => wake.Release());
        }
        catch (RedisConnectionException e)
        {
            logger.LogWarning(e, "No wake-ups for tenant purges; purging every {Interval}", interval);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var due = await deleted.DueAsync(time.GetUtcNow());
                if (due.Length > 0)
                {
                    await PurgeAsync(due, stoppingToken);
                }
            }
            catch (Exception e) when (e is RedisException or NpgsqlException or TimeoutException)
            {
                logger.LogWarning(e, "Purging deleted tenants' data failed; retrying in {Interval}", interval);
            }

            await wake.WaitAsync(interval, stoppingToken);
        }
    }

    private async Task PurgeAsync(string[] tenantIds, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        foreach (var table in tables)
        {
            // Table names come from the service's code, never from a request.
            var rows = await connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM {table} WHERE tenant_id = ANY(@tenantIds)", new { tenantIds }, cancellationToken: cancellationToken));
            if (rows > 0)
            {
                logger.LogInformation("Purged {Rows} rows of deleted tenants from {Table}", rows, table);
            }
        }
    }
}

public static class TenantPurgeExtensions
{
    /// <summary>Purges deleted tenants' rows from <paramref name="tenantTables"/> once their retention has passed.</summary>
    public static IHostApplicationBuilder AddTenantPurge(this IHostApplicationBuilder builder, params string[] tenantTables)
    {
        builder.Services.AddSingleton<DeletedTenants>();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<TenantPurgeService>(sp, (IReadOnlyList<string>)tenantTables));
        return builder;
    }
}
