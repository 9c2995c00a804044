using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Platform.Model.Catalog;
using Platform.ServiceDefaults.Json;
using StackExchange.Redis;

namespace Platform.Model.Gateway;

/// <summary>
/// Idempotency-Key claims in Redis, per tenant. The first request with a key claims it with an in-flight marker that
/// lapses after the request timeout unless the request, still running, extends it; a success replaces the marker by
/// the answer, kept for <see cref="ModelGatewayOptions.IdempotencyTtl"/>; a failure deletes it so that a retry runs
/// again. Each change after the claim is made only while the marker is still the claimant's own.
/// </summary>
public sealed class IdempotencyStore(IConnectionMultiplexer redis, IOptionsMonitor<ModelGatewayOptions> options, ILogger<IdempotencyStore> logger)
{
    // A repeat chooses how it receives the answer: whether it streams does not make it another request.
    private static readonly HashSet<string> NotFingerprinted = ["stream", "stream_options"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Returns what is stored under the key, or nil once the marker ARGV[1] is set for ARGV[2] ms.
    private const string ClaimScript = """
        local stored = redis.call('GET', KEYS[1])
        if stored then
          return stored
        end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        return false
        """;

    private const string CompleteScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
        return 1
        """;

    private const string ExtendScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        """;

    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then
          return 0
        end
        return redis.call('DEL', KEYS[1])
        """;

    /// <summary>Claims <paramref name="key"/> for this request, or says why not: the stored answer to replay, or an error.</summary>
    public async Task<IdempotencyLookup> ClaimAsync(string tenantId, string key, ChatRequest request)
    {
        // The key is hashed so the Redis key has a fixed shape whatever the client sent; the tenant keeps keys apart.
        var redisKey = $"model:idempotency:{tenantId}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))}";
        var fingerprint = CanonicalJson.Hash(request.Body, NotFingerprinted);
        var marker = JsonSerializer.Serialize(new IdempotencyEntry(fingerprint, Guid.NewGuid().ToString("N"), null, 0m), Json);
        var lease = Lease;
        try
        {
            var stored = await redis.GetDatabase().ScriptEvaluateAsync(ClaimScript, [redisKey], [marker, (long)lease.TotalMilliseconds]);
            if (stored.IsNull)
            {
                return new IdempotencyLookup(new IdempotencyClaim(this, key, redisKey, marker, fingerprint, lease), null, null);
            }

            var entry = JsonSerializer.Deserialize<IdempotencyEntry>((string)stored!, Json)!;
            return entry.Fingerprint != fingerprint ? new IdempotencyLookup(null, null, OpenAiError.IdempotencyKeyReused())
                : entry.Answer is null ? new IdempotencyLookup(null, null, OpenAiError.IdempotencyKeyInUse())
                : new IdempotencyLookup(null, entry, null);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or JsonException)
        {
            // Running the request unguarded could pay for it twice: the caller retries instead.
            logger.LogWarning("Idempotency-Key lookup failed: {Message}", e.Message);
            return new IdempotencyLookup(null, null, OpenAiError.IdempotencyUnavailable());
        }
    }

    /// <summary>How long an in-flight marker lives without being extended: the gateway's request timeout.</summary>
    private TimeSpan Lease => TimeSpan.FromMilliseconds(Math.Max(1000, options.CurrentValue.TotalTimeout.TotalMilliseconds));

    internal Task<bool> CompleteAsync(IdempotencyClaim claim, IdempotencyEntry answered) =>
        IfOwnedAsync(claim, CompleteScript, [claim.Marker, JsonSerializer.Serialize(answered, Json), (long)options.CurrentValue.IdempotencyTtl.TotalMilliseconds]);

    internal Task<bool> ExtendAsync(IdempotencyClaim claim) => IfOwnedAsync(claim, ExtendScript, [claim.Marker, (long)claim.Lease.TotalMilliseconds]);

    internal Task<bool> ReleaseAsync(IdempotencyClaim claim) => IfOwnedAsync(claim, ReleaseScript, [claim.Marker]);

    private async Task<bool> IfOwnedAsync(IdempotencyClaim claim, string script, RedisValue[] arguments)
    {
        try
        {
            return (long)await redis.GetDatabase().ScriptEvaluateAsync(script, [claim.RedisKey], arguments) == 1;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // The marker then lapses with its lease, after which a retry runs again.
            logger.LogWarning("Idempotency-Key update failed: {Message}", e.Message);
            return false;
        }
    }
}

/// <summary>What a lookup found: a claim to run under, a stored answer to replay, or an error to answer with.</summary>
public sealed record IdempotencyLookup(IdempotencyClaim? Claim, IdempotencyEntry? Stored, OpenAiError? Error);

/// <summary>
/// What Redis holds under a key: the request's fingerprint, and either the claimant's marker (<see cref="Owner"/>) while
/// the request runs, or its answer and cost once it succeeded.
/// </summary>
public sealed record IdempotencyEntry(string Fingerprint, string? Owner, CachedCompletion? Answer, decimal CostUsd);
