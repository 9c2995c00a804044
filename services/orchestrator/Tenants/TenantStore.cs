using Dapper;
using Npgsql;

namespace Platform.Orchestrator.Tenants;

public sealed class TenantStore(NpgsqlDataSource dataSource)
{
    public async Task<TenantRow?> CreateAsync(string id, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<TenantRow>("""
            INSERT INTO tenants (id, name) VALUES (@id, @name)
            ON CONFLICT (id) DO NOTHING
            RETURNING id, name, created_at
            """, new { id, name });
    }

    public async Task<TenantRow?> FindAsync(string id)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<TenantRow>(
            "SELECT id, name, created_at FROM tenants WHERE id = @id", new { id });
    }

    public async Task<IReadOnlyList<TenantRow>> ListAsync()
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<TenantRow>("SELECT id, name, created_at FROM tenants ORDER BY id")).AsList();
    }
}

public sealed record TenantRow(string Id, string Name, DateTime CreatedAt);
