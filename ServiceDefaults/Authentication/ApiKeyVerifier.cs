using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Caching;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Authentication;

/// <summary>
/// Verifies keys against the Redis index with a short in-process cache. A revocation reaches every service within
/// the cache lifetime (2 s by default) even if its pub/sub message is lost, and at once when it is not.
/// </summary>
public sealed class ApiKeyVerifier
{
    private readonly ExpiringCache<string, ApiKeyIdentity?> _cache;
    private readonly ApiKeyIndex _index;
    private readonly TimeProvider _time;

    public ApiKeyVerifier(ApiKeyIndex index, IConnectionMultiplexer redis, IOptions<ApiKeyCacheOptions> options, TimeProvider time)
    {
        _index = index;
        _time = time;
        _cache = new ExpiringCache<string, ApiKeyIdentity?>(time, options.Value.CacheDuration);
        try
        {
            redis.GetSubscriber().Subscribe(ApiKeyIndex.RevocationChannel, (channel, keyHash) => _cache.Remove((string)keyHash!));
        }
        catch (RedisConnectionException)
        {
            // Redis is still starting; the cache lifetime alone bounds how long a revoked key keeps working.
        }
    }

    public async Task<ApiKeyIdentity?> VerifyAsync(string key)
    {
        var identity = await _cache.GetOrLoadAsync(ApiKeys.Hash(key), _index.FindAsync);
        return identity is { ExpiresAt: { } expiresAt } && expiresAt <= _time.GetUtcNow() ? null : identity;
    }
}

public sealed class ApiKeyCacheOptions
{
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(2);
}
