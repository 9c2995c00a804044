using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Orchestrator.Agents;

/// <summary>
/// Agents as immutable, numbered versions per tenant and name. Writing a version and deleting an agent take a lock on
/// that tenant's name, so versions are numbered one at a time. Deleting marks the latest version: the agent is gone,
/// but each of its versions still resolves by number, for the runs that used it.
/// </summary>
public sealed class AgentStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "name, version, definition::text, created_at, created_by";

    // The class half of the two-key advisory lock: no other lock of this service uses it.
    private const int WriteLockClass = 0x41474e54;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The latest version of an agent that is not deleted, or version <paramref name="version"/> whether or not the agent
    /// has been deleted since; null when there is none.
    /// </summary>
    public async Task<AgentVersion?> FindAsync(string tenantId, string name, int? version, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = version is { } number
            ? await connection.QuerySingleOrDefaultAsync<AgentRow>(new CommandDefinition(
                $"SELECT {Columns} FROM agents WHERE tenant_id = @tenantId AND name = @name AND version = @number",
                new { tenantId, name, number }, cancellationToken: cancellationToken))
            : await connection.QuerySingleOrDefaultAsync<AgentRow>(new CommandDefinition($"""
                SELECT {Columns} FROM (
                    SELECT * FROM agents WHERE tenant_id = @tenantId AND name = @name ORDER BY version DESC LIMIT 1
                ) latest
                WHERE deleted_at IS NULL
                """, new { tenantId, name }, cancellationToken: cancellationToken));
        return row?.AsVersion();
    }

    /// <summary>The latest versions of a tenant's agents by name, after <paramref name="after"/>.</summary>
    public async Task<IReadOnlyList<AgentVersion>> ListAsync(string tenantId, string? after, int limit)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<AgentRow>($"""
            SELECT {Columns} FROM (
                SELECT DISTINCT ON (name) * FROM agents
                WHERE tenant_id = @tenantId AND name > @after
                ORDER BY name, version DESC
            ) latest
            WHERE deleted_at IS NULL
            ORDER BY name
            LIMIT @limit
            """, new { tenantId, after = after ?? "", limit });
        return rows.Select(r => r.AsVersion()).ToList();
    }

    public async Task<IReadOnlyList<AgentVersion>> ListVersionsAsync(string tenantId, string name, int after, int limit)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<AgentRow>($"""
            SELECT {Columns} FROM agents
            WHERE tenant_id = @tenantId AND name = @name AND version > @after
            ORDER BY version
            LIMIT @limit
            """, new { tenantId, name, after, limit });
        return rows.Select(r => r.AsVersion()).ToList();
    }

    /// <summary>
    /// Stores the first version of a new agent, or the next version of a deleted one (its numbers go on, so a number a
    /// run recorded keeps naming what it ran); null when an agent of that name exists.
    /// </summary>
    public async Task<AgentVersion?> CreateAsync(string tenantId, string name, AgentDefinition definition, string createdBy)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var latest = await LockAsync(connection, transaction, tenantId, name);
        if (latest is { Deleted: false })
        {
            return null;
        }

        var created = await InsertAsync(connection, transaction, tenantId, name, (latest?.Version ?? 0) + 1, definition, createdBy);
        await transaction.CommitAsync();
        return created;
    }

    /// <summary>Stores the next version of an agent that exists, when its latest version is one of <paramref name="ifMatch"/> (if given).</summary>
    public async Task<AgentUpdate> UpdateAsync(string tenantId, string name, AgentDefinition definition, string createdBy, IReadOnlyCollection<int>? ifMatch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var latest = await LockAsync(connection, transaction, tenantId, name);
        if (latest is not { Deleted: false } current)
        {
            return new AgentUpdate.Missing();
        }

        if (ifMatch is not null && !ifMatch.Contains(current.Version))
        {
            return new AgentUpdate.Stale(current.Version);
        }

        var updated = await InsertAsync(connection, transaction, tenantId, name, current.Version + 1, definition, createdBy);
        await transaction.CommitAsync();
        return new AgentUpdate.Written(updated);
    }

    /// <summary>Marks the agent deleted; false when there is no such agent, or it is deleted already.</summary>
    public async Task<bool> DeleteAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (await LockAsync(connection, transaction, tenantId, name) is not { Deleted: false } latest)
        {
            return false;
        }

        await connection.ExecuteAsync(
            "UPDATE agents SET deleted_at = now() WHERE tenant_id = @tenantId AND name = @name AND version = @version",
            new { tenantId, name, version = latest.Version }, transaction);
        await transaction.CommitAsync();
        return true;
    }

    /// <summary>Takes the name's write lock until the transaction ends, then reads its latest version.</summary>
    private static async Task<Latest?> LockAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenantId, string name)
    {
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@WriteLockClass, hashtext(@tenantId || '/' || @name))",
            new { WriteLockClass, tenantId, name }, transaction);
        return await connection.QuerySingleOrDefaultAsync<Latest>("""
            SELECT version, deleted_at IS NOT NULL AS deleted FROM agents
            WHERE tenant_id = @tenantId AND name = @name
            ORDER BY version DESC
            LIMIT 1
            """, new { tenantId, name }, transaction);
    }

    private static async Task<AgentVersion> InsertAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string tenantId, string name, int version, AgentDefinition definition, string createdBy)
    {
        var row = await connection.QuerySingleAsync<AgentRow>($"""
            INSERT INTO agents (tenant_id, name, version, definition, created_by)
            VALUES (@tenantId, @name, @version, @definition::jsonb, @createdBy)
            RETURNING {Columns}
            """, new { tenantId, name, version, definition = JsonSerializer.Serialize(definition, Json), createdBy }, transaction);
        return row.AsVersion();
    }

    private sealed record Latest(int Version, bool Deleted);

    private sealed record AgentRow(string Name, int Version, string Definition, DateTime CreatedAt, string CreatedBy)
    {
        public AgentVersion AsVersion() => new(Name, Version, JsonSerializer.Deserialize<AgentDefinition>(Definition, Json)!, CreatedAt, CreatedBy);
    }
}

/// <summary>One version of an agent: its definition, and when and by which API key it was written.</summary>
public sealed record AgentVersion(string Name, int Version, AgentDefinition Definition, DateTime CreatedAt, string CreatedBy);

/// <summary>What became of an update: the new version, no such agent, or a latest version other than the caller expected.</summary>
public abstract record AgentUpdate
{
    public sealed record Written(AgentVersion Agent) : AgentUpdate;

    public sealed record Missing : AgentUpdate;

    public sealed record Stale(int LatestVersion) : AgentUpdate;
}
