using StackExchange.Redis;

namespace Platform.ServiceDefaults.Authentication;

/// <summary>
/// The Redis index every service verifies keys against: one hash per key hash. Postgres (owned by the orchestrator)
/// is the truth; the orchestrator writes through to this index and rebuilds it. Revocations are also published so
/// every service drops its cached entry at once.
/// </summary>
public sealed class ApiKeyIndex(IConnectionMultiplexer redis)
{
    public static readonly RedisChannel RevocationChannel = RedisChannel.Literal("platform:auth:revoked");

    public static RedisKey KeyFor(string keyHash) => $"platform:auth:key:{keyHash}";

    public async Task<ApiKeyIdentity?> FindAsync(string keyHash)
    {
        var fields = await redis.GetDatabase().HashGetAllAsync(KeyFor(keyHash));
        if (fields.Length == 0)
        {
            return null;
        }

        var values = fields.ToDictionary(f => (string)f.Name!, f => (string)f.Value!);
        DateTimeOffset? expiresAt = values.TryGetValue("expires_at", out var expires) && long.TryParse(expires, out var unix)
            ? DateTimeOffset.FromUnixTimeSeconds(unix)
            : null;
        return new ApiKeyIdentity(values["key_id"], values["tenant_id"], values["scopes"].Split(' ', StringSplitOptions.RemoveEmptyEntries), expiresAt);
    }

    public async Task PutAsync(string keyHash, ApiKeyIdentity identity)
    {
        var database = redis.GetDatabase();
        HashEntry[] fields =
        [
            new("key_id", identity.KeyId),
            new("tenant_id", identity.TenantId),
            new("scopes", string.Join(' ', identity.Scopes)),
            new("expires_at", identity.ExpiresAt?.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ""),
        ];
        var transaction = database.CreateTransaction();
        _ = transaction.KeyDeleteAsync(KeyFor(keyHash));
        _ = transaction.HashSetAsync(KeyFor(keyHash), fields);
        if (identity.ExpiresAt is { } expiresAt)
        {
            _ = transaction.KeyExpireAsync(KeyFor(keyHash), expiresAt.UtcDateTime);
        }

        await transaction.ExecuteAsync();
    }

    public async Task RemoveAsync(string keyHash)
    {
        var database = redis.GetDatabase();
        await database.KeyDeleteAsync(KeyFor(keyHash));
        await redis.GetSubscriber().PublishAsync(RevocationChannel, keyHash);
    }
}
