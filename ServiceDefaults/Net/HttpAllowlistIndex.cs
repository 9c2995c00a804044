using StackExchange.Redis;

namespace Platform.ServiceDefaults.Net;

/// <summary>
/// Each tenant's HTTP allowlist, as every service reads it: a Redis set the tool service (which owns the list in
/// PostgreSQL) writes through and rebuilds at start. No set means no list: the guard's default rules apply.
/// </summary>
public sealed class HttpAllowlistIndex(IConnectionMultiplexer redis)
{
    public async Task<IReadOnlySet<string>> HostsAsync(string tenantId) =>
        (await redis.GetDatabase().SetMembersAsync(KeyFor(tenantId))).Select(v => v.ToString()).ToHashSet(StringComparer.OrdinalIgnoreCase);

    public async Task ReplaceAsync(string tenantId, IReadOnlyCollection<string> hosts)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.KeyDeleteAsync(KeyFor(tenantId));
        if (hosts.Count > 0)
        {
            _ = transaction.SetAddAsync(KeyFor(tenantId), hosts.Select(h => (RedisValue)h).ToArray());
        }

        await transaction.ExecuteAsync();
    }

    private static RedisKey KeyFor(string tenantId) => $"platform:http-allowlist:{tenantId}";
}
