using Dapper;
using Npgsql;

namespace Platform.Tool.Net;

public sealed class HttpAllowlist(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlySet<string>> HostsAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<string>("SELECT host FROM http_allowlist WHERE tenant_id = @tenantId", new { tenantId }))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Replaces the tenant's allowlist in one transaction.</summary>
    public async Task ReplaceAsync(string tenantId, IReadOnlyList<string> hosts)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("DELETE FROM http_allowlist WHERE tenant_id = @tenantId", new { tenantId }, transaction);
        await connection.ExecuteAsync("INSERT INTO http_allowlist (tenant_id, host) SELECT @tenantId, unnest(@hosts)",
            new { tenantId, hosts = hosts.Select(h => h.ToLowerInvariant()).Distinct().ToArray() }, transaction);
        await transaction.CommitAsync();
    }
}
