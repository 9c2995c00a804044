using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Tenants;

public sealed class TenantStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "id, name, created_at, deactivated_at, deleted_at, purge_after";

    public async Task<TenantRow?> CreateAsync(string id, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<TenantRow>($"""
            INSERT INTO tenants (id, name) VALUES (@id, @name)
            ON CONFLICT (id) DO NOTHING
            RETURNING {Columns}
            """, new { id, name });
    }

    public async Task<TenantRow?> FindAsync(string id)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<TenantRow>($"SELECT {Columns} FROM tenants WHERE id = @id", new { id });
    }

    public async Task<IReadOnlyList<TenantRow>> ListAsync()
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<TenantRow>($"SELECT {Columns} FROM tenants ORDER BY id")).AsList();
    }

    /// <summary>Sets or clears <c>deactivated_at</c> of a tenant that is not deleted; null when there is no such tenant.</summary>
    public async Task<TenantRow?> SetDeactivatedAsync(string id, bool deactivated, NpgsqlConnection connection, NpgsqlTransaction transaction) =>
        await connection.QuerySingleOrDefaultAsync<TenantRow>($"""
            UPDATE tenants SET deactivated_at = CASE WHEN @deactivated THEN coalesce(deactivated_at, now()) END
            WHERE id = @id AND deleted_at IS NULL
            RETURNING {Columns}
            """, new { id, deactivated }, transaction);

    /// <summary>Marks a tenant deleted, its data to be purged after <paramref name="retention"/>; null when already deleted or absent.</summary>
    public async Task<TenantRow?> MarkDeletedAsync(string id, TimeSpan retention, NpgsqlConnection connection, NpgsqlTransaction transaction) =>
        await connection.QuerySingleOrDefaultAsync<TenantRow>($"""
            UPDATE tenants SET deleted_at = now(), purge_after = now() + @retention, deactivated_at = coalesce(deactivated_at, now())
            WHERE id = @id AND deleted_at IS NULL
            RETURNING {Columns}
            """, new { id, retention }, transaction);

    public async Task<IReadOnlyList<TenantRow>> DeletedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<TenantRow>(new CommandDefinition(
            $"SELECT {Columns} FROM tenants WHERE deleted_at IS NOT NULL", cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// Writes every tenant's state through to <paramref name="activeTenants"/>, rows read <c>FOR SHARE</c> so a concurrent
    /// deactivation removes its tenant after this, never before. Tenants created meanwhile are added by their creation.
    /// </summary>
    public async Task SyncActiveAsync(ActiveTenants activeTenants, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var states = (await connection.QueryAsync<(string Id, bool Active)>(new CommandDefinition("""
            SELECT id, deactivated_at IS NULL AND deleted_at IS NULL AS active FROM tenants FOR SHARE
            """, transaction: transaction, cancellationToken: cancellationToken))).AsList();
        await activeTenants.AddAsync([.. states.Where(s => s.Active).Select(s => s.Id)]);
        await activeTenants.RemoveAsync([.. states.Where(s => !s.Active).Select(s => s.Id)]);
        await transaction.CommitAsync(cancellationToken);
    }

    public ValueTask<NpgsqlConnection> OpenConnectionAsync() => dataSource.OpenConnectionAsync();
}

public sealed record TenantRow(string Id, string Name, DateTime CreatedAt, DateTime? DeactivatedAt, DateTime? DeletedAt, DateTime? PurgeAfter)
{
    public string Status => DeletedAt is not null ? "deleted" : DeactivatedAt is not null ? "deactivated" : "active";
}
