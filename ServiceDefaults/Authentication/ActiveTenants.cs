using StackExchange.Redis;

namespace Platform.ServiceDefaults.Authentication;

/// <summary>
/// The tenants a platform admin may act as (<see cref="ApiKeyAuthenticationHandler.TenantHeader"/>): a Redis set of
/// active tenant ids. The orchestrator, which owns tenants, adds and removes them as they change and re-adds them from
/// PostgreSQL with the key index, so every service can check a tenant without reading the orchestrator's database.
/// </summary>
public sealed class ActiveTenants(IConnectionMultiplexer redis)
{
    private static readonly RedisKey Key = "platform:tenants:active";

    public async Task<bool> ContainsAsync(string tenantId) => await redis.GetDatabase().SetContainsAsync(Key, tenantId);

    public Task AddAsync(params string[] tenantIds) =>
        tenantIds.Length == 0 ? Task.CompletedTask : redis.GetDatabase().SetAddAsync(Key, [.. tenantIds.Select(t => (RedisValue)t)]);

    public Task RemoveAsync(params string[] tenantIds) =>
        tenantIds.Length == 0 ? Task.CompletedTask : redis.GetDatabase().SetRemoveAsync(Key, [.. tenantIds.Select(t => (RedisValue)t)]);
}
