using StackExchange.Redis;

namespace Platform.ServiceDefaults.Net;

/// <summary>
/// Each tenant's <see cref="OutboundPolicy"/>, as every service reads it: two Redis sets that the tool service (which
/// owns both lists in PostgreSQL) writes through and rebuilds at start. No set means an empty list.
/// </summary>
public sealed class HttpAllowlistIndex(IConnectionMultiplexer redis)
{
    public async Task<OutboundPolicy> PolicyAsync(string tenantId)
    {
        var batch = redis.GetDatabase().CreateBatch();
        var allowed = batch.SetMembersAsync(KeyFor(OutboundList.Allowlist, tenantId));
        var granted = batch.SetMembersAsync(KeyFor(OutboundList.PrivateGrants, tenantId));
        batch.Execute();
        return new OutboundPolicy(Hosts(await allowed), Hosts(await granted));
    }

    public async Task ReplaceAsync(OutboundList list, string tenantId, IReadOnlyCollection<string> hosts)
    {
        var transaction = redis.GetDatabase().CreateTransaction();
        _ = transaction.KeyDeleteAsync(KeyFor(list, tenantId));
        if (hosts.Count > 0)
        {
            _ = transaction.SetAddAsync(KeyFor(list, tenantId), hosts.Select(h => (RedisValue)h).ToArray());
        }

        await transaction.ExecuteAsync();
    }

    private static HashSet<string> Hosts(RedisValue[] values) => values.Select(v => v.ToString()).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static RedisKey KeyFor(OutboundList list, string tenantId) => list switch
    {
        OutboundList.Allowlist => $"platform:http-allowlist:{tenantId}",
        _ => $"platform:http-private-grants:{tenantId}",
    };
}

/// <summary>The two lists of an <see cref="OutboundPolicy"/>: the tenant's own, and the platform operator's grants.</summary>
public enum OutboundList
{
    Allowlist,
    PrivateGrants,
}
