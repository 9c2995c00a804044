using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Net;

namespace Platform.Tool.Net;

/// <summary>
/// Each tenant's <see cref="OutboundPolicy"/>: its own HTTP allowlist and the platform operator's private grants,
/// owned here in PostgreSQL and written through to the <see cref="HttpAllowlistIndex"/> that every service's outbound
/// guard reads (the model gateway's, for tenant provider URLs; the orchestrator's, for webhooks).
/// </summary>
public sealed class HttpAllowlist(NpgsqlDataSource dataSource, HttpAllowlistIndex index)
{
    public async Task<OutboundPolicy> PolicyAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = (await connection.QueryAsync<(string List, string Host)>("""
            SELECT 'allow', host FROM http_allowlist WHERE tenant_id = @tenantId
            UNION ALL
            SELECT 'grant', host FROM http_private_grants WHERE tenant_id = @tenantId
            """, new { tenantId })).ToList();
        return new OutboundPolicy(Hosts(rows, "allow"), Hosts(rows, "grant"));
    }

    /// <summary>Replaces the tenant's allowlist in one transaction, then in the index.</summary>
    public Task ReplaceAllowlistAsync(string tenantId, IReadOnlyList<string> hosts) =>
        ReplaceAsync(OutboundList.Allowlist, tenantId, hosts, """
            DELETE FROM http_allowlist WHERE tenant_id = @tenantId;
            INSERT INTO http_allowlist (tenant_id, host) SELECT @tenantId, unnest(@hosts);
            """, grantedBy: null);

    /// <summary>Replaces the operator's private grants for the tenant, recording which key granted them.</summary>
    public Task ReplaceGrantsAsync(string tenantId, IReadOnlyList<string> hosts, string grantedBy) =>
        ReplaceAsync(OutboundList.PrivateGrants, tenantId, hosts, """
            DELETE FROM http_private_grants WHERE tenant_id = @tenantId;
            INSERT INTO http_private_grants (tenant_id, host, granted_by) SELECT @tenantId, unnest(@hosts), @grantedBy;
            """, grantedBy);

    /// <summary>Rewrites the index from PostgreSQL, so a lost or flushed Redis never leaves a tenant without its lists.</summary>
    public async Task RebuildIndexAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string List, string TenantId, string Host)>(new CommandDefinition("""
            SELECT 'allow', tenant_id, host FROM http_allowlist
            UNION ALL
            SELECT 'grant', tenant_id, host FROM http_private_grants
            """, cancellationToken: cancellationToken));
        foreach (var tenant in rows.GroupBy(r => r.TenantId))
        {
            await index.ReplaceAsync(OutboundList.Allowlist, tenant.Key, [.. tenant.Where(r => r.List == "allow").Select(r => r.Host)]);
            await index.ReplaceAsync(OutboundList.PrivateGrants, tenant.Key, [.. tenant.Where(r => r.List == "grant").Select(r => r.Host)]);
        }
    }

    private async Task ReplaceAsync(OutboundList list, string tenantId, IReadOnlyList<string> hosts, string sql, string? grantedBy)
    {
        var normalized = hosts.Select(h => h.ToLowerInvariant()).Distinct().ToArray();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync(sql, new { tenantId, hosts = normalized, grantedBy }, transaction);
        await transaction.CommitAsync();
        await index.ReplaceAsync(list, tenantId, normalized);
    }

    private static HashSet<string> Hosts(IEnumerable<(string List, string Host)> rows, string list) =>
        rows.Where(r => r.List == list).Select(r => r.Host).ToHashSet(StringComparer.OrdinalIgnoreCase);
}
