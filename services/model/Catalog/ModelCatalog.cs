using Dapper;
using Npgsql;

namespace Platform.Model.Catalog;

public sealed class ModelCatalog(NpgsqlDataSource dataSource)
{
    /// <summary>The aliases a tenant may call: its own, and the platform's that it does not override.</summary>
    public async Task<IReadOnlyList<ModelAliasRow>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<ModelAliasRow>("""
            SELECT DISTINCT ON (alias) alias, provider, upstream_model, created_at
            FROM model_aliases
            WHERE tenant_id IN ('', @tenantId)
            ORDER BY alias, tenant_id DESC
            """, new { tenantId })).AsList();
    }
}

public sealed record ModelAliasRow(string Alias, string Provider, string UpstreamModel, DateTime CreatedAt);
