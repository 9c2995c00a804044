using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Net;

namespace Platform.Tool.Net;

/// <summary>
/// Each tenant's HTTP allowlist, owned here in PostgreSQL and written through to the <see cref="HttpAllowlistIndex"/>
/// that every service's outbound guard reads (the model gateway's, for tenant provider URLs).
/// </summary>
public sealed class HttpAllowlist(NpgsqlDataSource dataSource, HttpAllowlistIndex index)
{
    public async Task<IReadOnlySet<string>> HostsAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<string>("SELECT host FROM http_allowlist WHERE tenant_id = @tenantId", new { tenantId }))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Replaces the tenant's allowlist in one transaction, then in the index.</summary>
    public async Task ReplaceAsync(string tenantId, IReadOnlyList<string> hosts)
    {
        var normalized = hosts.Select(h => h.ToLowerInvariant()).Distinct().ToArray();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("DELETE FROM http_allowlist WHERE tenant_id = @tenantId", new { tenantId }, transaction);
        await connection.ExecuteAsync("INSERT INTO http_allowlist (tenant_id, host) SELECT @tenantId, unnest(@hosts)",
            new { tenantId, hosts = normalized }, transaction);
        await transaction.CommitAsync();
        await index.ReplaceAsync(tenantId, normalized);
    }

    /// <summary>Rewrites the index from PostgreSQL, so a lost or flushed Redis never leaves a tenant without its list.</summary>
    public async Task RebuildIndexAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string TenantId, string Host)>(
            new CommandDefinition("SELECT tenant_id, host FROM http_allowlist", cancellationToken: cancellationToken));
        foreach (var tenant in rows.GroupBy(r => r.TenantId))
        {
            await index.ReplaceAsync(tenant.Key, tenant.Select(r => r.Host).ToArray());
        }
    }
}
