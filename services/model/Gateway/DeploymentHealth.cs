using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Platform.Model.Catalog;
using StackExchange.Redis;

namespace Platform.Model.Gateway;

/// <summary>
/// What every replica knows about a deployment, shared through Redis: whether it is cooling down after failures (a
/// circuit breaker), and its recent latency. A platform deployment's state is shared by every tenant calling it; a
/// tenant's own deployment has state of its own, per tenant and provider key, so a tenant failing on purpose against
/// another's upstream URL and model (a wrong key, a short timeout) cools down and slows down only its own.
/// </summary>
public sealed class DeploymentHealth(IConnectionMultiplexer redis, ILogger<DeploymentHealth> logger)
{
    private const string LatencyKey = "model:latency";

    // Exponentially weighted moving average with the time of the last sample ("ms|unix-ms"), updated atomically so
    // replicas never overwrite each other's samples.
    private const string RecordLatencyScript = """
        local entry = redis.call('HGET', KEYS[1], ARGV[1])
        local old = entry and tonumber(string.match(entry, '^([^|]+)'))
        local sample = tonumber(ARGV[2])
        local new = old and (old * 0.8 + sample * 0.2) or sample
        redis.call('HSET', KEYS[1], ARGV[1], tostring(new) .. '|' .. ARGV[3])
        return tostring(new)
        """;

    public static string Id(ModelDeployment deployment) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(deployment.TenantId is null
            ? $"{deployment.Provider}|{deployment.BaseUrl}|{deployment.UpstreamModel}"
            : $"tenant|{deployment.TenantId}|{deployment.CredentialId}|{deployment.Provider}|{deployment.BaseUrl}|{deployment.UpstreamModel}")))[..16];

    public async Task<bool> IsCoolingDownAsync(ModelDeployment deployment)
    {
        try
        {
            return await redis.GetDatabase().KeyExistsAsync(CooldownKey(deployment));
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return false;
        }
    }

    public async Task CoolDownAsync(ModelDeployment deployment, TimeSpan duration)
    {
        logger.LogWarning("Deployment {Deployment} cools down for {Seconds} s", deployment.Name, duration.TotalSeconds);
        await Tolerate(() => redis.GetDatabase().StringSetAsync(CooldownKey(deployment), "1", duration));
    }

    /// <summary>When each deployment's cooldown ends, or null for one not cooling down (or when Redis cannot say).</summary>
    public async Task<DateTimeOffset?[]> CooldownEndsAsync(IReadOnlyList<ModelDeployment> deployments, TimeProvider time)
    {
        try
        {
            var database = redis.GetDatabase();
            var remaining = await Task.WhenAll(deployments.Select(d => database.KeyTimeToLiveAsync(CooldownKey(d))));
            return [.. remaining.Select(ttl => ttl is { } left ? time.GetUtcNow() + left : (DateTimeOffset?)null)];
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new DateTimeOffset?[deployments.Count];
        }
    }

    /// <summary>Sent without waiting for the reply: a latency sample is worth less than the round trip it would cost.</summary>
    public void RecordLatency(ModelDeployment deployment, TimeSpan latency)
    {
        try
        {
            _ = redis.GetDatabase().ScriptEvaluateAsync(RecordLatencyScript, [LatencyKey],
                [Id(deployment), latency.TotalMilliseconds.ToString(CultureInfo.InvariantCulture), DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()],
                CommandFlags.FireAndForget);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Deployment latency not recorded: {Message}", e.Message);
        }
    }

    /// <summary>
    /// Each deployment's recent latency in milliseconds, or null when it has no sample younger than
    /// <paramref name="sampleLifetime"/>: such a deployment is tried first, so one slow answer long ago, or a slow
    /// first answer, does not keep it unused forever.
    /// </summary>
    public async Task<double?[]> LatenciesAsync(IReadOnlyList<ModelDeployment> deployments, TimeSpan sampleLifetime)
    {
        try
        {
            var entries = await redis.GetDatabase().HashGetAsync(LatencyKey, [.. deployments.Select(d => (RedisValue)Id(d))]);
            var oldest = DateTimeOffset.UtcNow.Add(-sampleLifetime).ToUnixTimeMilliseconds();
            return [.. entries.Select(entry => Fresh(entry, oldest))];
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return new double?[deployments.Count];
        }
    }

    private static double? Fresh(RedisValue entry, long oldestUnixMs)
    {
        var parts = entry.IsNull ? [] : ((string)entry!).Split('|');
        return parts.Length == 2 && long.Parse(parts[1], CultureInfo.InvariantCulture) >= oldestUnixMs
            ? double.Parse(parts[0], CultureInfo.InvariantCulture)
            : null;
    }

    private static RedisKey CooldownKey(ModelDeployment deployment) => $"model:cooldown:{Id(deployment)}";

    /// <summary>Health bookkeeping never fails a request: without Redis, routing just knows less.</summary>
    private async Task Tolerate(Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Deployment health not recorded: {Message}", e.Message);
        }
    }
}
