using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Tenants;

/// <summary>
/// API keys in Postgres, written through to the Redis index inside the same transaction: a key becomes usable, or
/// stops being usable, only once both agree, and a failed index write rolls the change back.
/// </summary>
public sealed class ApiKeyStore(NpgsqlDataSource dataSource, ApiKeyIndex index)
{
    private const string Columns = "id, tenant_id, name, key_hash, key_prefix, scopes, is_bootstrap, created_by, created_at, expires_at, revoked_at";

    public async Task<ApiKeyRow> CreateAsync(string tenantId, string name, string key, string[] scopes, DateTime? expiresAt, Guid? createdBy)
    {
        var keyHash = ApiKeys.Hash(key);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var row = await connection.QuerySingleAsync<ApiKeyRow>($"""
            INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, created_by, expires_at)
            VALUES (@id, @tenantId, @name, @keyHash, @keyPrefix, @scopes, @createdBy, @expiresAt)
            RETURNING {Columns}
            """, new { id = Guid.CreateVersion7(), tenantId, name, keyHash, keyPrefix = key[..8], scopes, createdBy, expiresAt }, transaction);
        await index.PutAsync(keyHash, row.AsIdentity());
        await transaction.CommitAsync();
        return row;
    }

    public async Task<IReadOnlyList<ApiKeyRow>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<ApiKeyRow>(
            $"SELECT {Columns} FROM api_keys WHERE tenant_id = @tenantId ORDER BY created_at", new { tenantId })).AsList();
    }

    /// <summary>Revokes a key; false when the tenant has no such active key.</summary>
    public async Task<bool> RevokeAsync(string tenantId, Guid id)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var keyHash = await connection.QuerySingleOrDefaultAsync<string>("""
            UPDATE api_keys SET revoked_at = now()
            WHERE id = @id AND tenant_id = @tenantId AND revoked_at IS NULL
            RETURNING key_hash
            """, new { id, tenantId }, transaction);
        if (keyHash is null)
        {
            return false;
        }

        await index.RemoveAsync(keyHash);
        await transaction.CommitAsync();
        return true;
    }

    /// <summary>Revokes every active key of a tenant inside the caller's transaction; the index forgets them before it commits.</summary>
    public async Task<int> RevokeAllAsync(string tenantId, NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        var keyHashes = (await connection.QueryAsync<string>("""
            UPDATE api_keys SET revoked_at = now()
            WHERE tenant_id = @tenantId AND revoked_at IS NULL
            RETURNING key_hash
            """, new { tenantId }, transaction)).AsList();
        foreach (var keyHash in keyHashes)
        {
            await index.RemoveAsync(keyHash);
        }

        return keyHashes.Count;
    }

    /// <summary>
    /// Makes the configured bootstrap key the system tenant's only bootstrap key: a rotated parameter revokes the old one.
    /// Returns the hashes it revoked.
    /// </summary>
    public async Task<IReadOnlyList<string>> EnsureBootstrapKeyAsync(string key)
    {
        var keyHash = ApiKeys.Hash(key);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, is_bootstrap)
            VALUES (@id, @tenantId, 'bootstrap admin', @keyHash, @keyPrefix, @scopes, true)
            ON CONFLICT (key_hash) DO NOTHING
            """, new { id = Guid.CreateVersion7(), tenantId = ApiKeys.SystemTenant, keyHash, keyPrefix = key[..8], scopes = new[] { Scopes.Admin } },
            transaction);
        var revoked = (await connection.QueryAsync<string>("""
            UPDATE api_keys SET revoked_at = now()
            WHERE is_bootstrap AND key_hash <> @keyHash AND revoked_at IS NULL
            RETURNING key_hash
            """, new { keyHash }, transaction)).AsList();
        await transaction.CommitAsync();
        return revoked;
    }

    /// <summary>
    /// Rewrites the whole index from Postgres. Active rows are read FOR SHARE and the transaction is held until Redis is
    /// written, so a revocation running at the same time waits and its removal lands after this write, never before.
    /// </summary>
    public async Task<int> SyncIndexAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var active = (await connection.QueryAsync<ApiKeyRow>($"""
            SELECT {Columns} FROM api_keys
            WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            FOR SHARE
            """, transaction: transaction)).AsList();
        foreach (var key in active)
        {
            await index.PutAsync(key.KeyHash, key.AsIdentity());
        }

        var revoked = await connection.QueryAsync<string>(
            // Recent revocations only: older ones left the index when they happened, and runs revoke a key each.
            "SELECT key_hash FROM api_keys WHERE revoked_at > now() - interval '1 hour'", transaction: transaction);
        foreach (var keyHash in revoked)
        {
            await index.RemoveAsync(keyHash);
        }

        await transaction.CommitAsync(cancellationToken);
        return active.Count;
    }

    internal static DateTimeOffset? ToOffset(DateTime? value) =>
        value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}

/// <summary>A stored key; a class rather than a positional record because Dapper reads text[] columns as untyped arrays.</summary>
public sealed class ApiKeyRow
{
    public Guid Id { get; init; }

    public string TenantId { get; init; } = "";

    public string Name { get; init; } = "";

    public string KeyHash { get; init; } = "";

    public string KeyPrefix { get; init; } = "";

    public string[] Scopes { get; init; } = [];

    public bool IsBootstrap { get; init; }

    public Guid? CreatedBy { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime? ExpiresAt { get; init; }

    public DateTime? RevokedAt { get; init; }

    public ApiKeyIdentity AsIdentity() => new(Id.ToString(), TenantId, Scopes, ApiKeyStore.ToOffset(ExpiresAt));
}
