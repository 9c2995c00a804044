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

    /// <summary>The deployments that serve <paramref name="alias"/> for a tenant, in the order to try them; empty when unknown.</summary>
    public async Task<IReadOnlyList<ModelDeployment>> ResolveAsync(string tenantId, string alias)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<ModelAliasRow>("""
            SELECT alias, provider, upstream_model, created_at
            FROM model_aliases
            WHERE tenant_id IN ('', @tenantId) AND alias = @alias
            ORDER BY tenant_id DESC
            LIMIT 1
            """, new { tenantId, alias });
        return row is null ? [] : [new ModelDeployment(row.Alias, $"{row.Alias}/{row.Provider}", row.Provider, row.UpstreamModel, 0m, 0m, 128_000)];
    }
}

public sealed record ModelAliasRow(string Alias, string Provider, string UpstreamModel, DateTime CreatedAt);
