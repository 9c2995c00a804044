using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Authentication;

/// <summary>
/// Verifies keys against the Redis index with a short in-process cache. A revocation reaches every service within
/// the cache lifetime (2 s by default) even if its pub/sub message is lost, and at once when it is not.
/// </summary>
public sealed class ApiKeyVerifier
{
    private const int MaxCachedKeys = 10_000;
    private readonly ConcurrentDictionary<string, (ApiKeyIdentity? Identity, long ExpiresAt)> _cache = new();
    private readonly ApiKeyIndex _index;
    private readonly TimeProvider _time;
    private readonly long _cacheTicks;

    public ApiKeyVerifier(ApiKeyIndex index, IConnectionMultiplexer redis, IOptions<ApiKeyCacheOptions> options, TimeProvider time)
    {
        _index = index;
        _time = time;
        _cacheTicks = (long)(options.Value.CacheDuration.TotalSeconds * time.TimestampFrequency);
        try
        {
            redis.GetSubscriber().Subscribe(ApiKeyIndex.RevocationChannel, (channel, keyHash) => _cache.TryRemove((string)keyHash!, out _));
        }
        catch (RedisConnectionException)
        {
            // Redis is still starting; the cache lifetime alone bounds how long a revoked key keeps working.
        }
    }

    public async Task<ApiKeyIdentity?> VerifyAsync(string key)
    {
        var keyHash = ApiKeys.Hash(key);
        var now = _time.GetTimestamp();
        if (!_cache.TryGetValue(keyHash, out var cached) || cached.ExpiresAt < now)
        {
            if (_cache.Count >= MaxCachedKeys)
            {
                _cache.Clear();
            }

            cached = (await _index.FindAsync(keyHash), now + _cacheTicks);
            _cache[keyHash] = cached;
        }

        return cached.Identity is { ExpiresAt: { } expiresAt } && expiresAt <= _time.GetUtcNow() ? null : cached.Identity;
    }
}

public sealed class ApiKeyCacheOptions
{
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(2);
}
