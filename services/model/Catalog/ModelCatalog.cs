using System.Security.Cryptography;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Caching;
using Platform.ServiceDefaults.Security;

namespace Platform.Model.Catalog;

/// <summary>
/// Aliases from configuration, overridden per tenant by aliases stored through the catalog API. Resolutions are cached
/// in-process for two seconds, so the hot path rarely reaches Postgres and a change reaches every replica within that.
/// A tenant's provider keys are stored encrypted and stay so in the resolved deployments, which carry their fingerprint.
/// </summary>
public sealed class ModelCatalog(NpgsqlDataSource dataSource, IOptionsMonitor<ModelGatewayOptions> options, SecretProtector secrets, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ExpiringCache<(string TenantId, string Alias), ModelRoute?> _resolved = new(time, TimeSpan.FromSeconds(2));

    public Task<ModelRoute?> ResolveAsync(string tenantId, string alias) => _resolved.GetOrLoadAsync((tenantId, alias), key => LoadAsync(key.TenantId, key.Alias));

    private async Task<ModelRoute?> LoadAsync(string tenantId, string alias)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<AliasRow>(
            "SELECT alias, strategy, deployments::text, updated_at FROM model_aliases WHERE tenant_id = @tenantId AND alias = @alias",
            new { tenantId, alias });
        if (row is not null)
        {
            return TenantRoute(tenantId, row);
        }

        return options.CurrentValue.Aliases.TryGetValue(alias, out var definition) ? Route(alias, definition) : null;
    }

    /// <summary>Every alias a tenant may call, its own first.</summary>
    public async Task<IReadOnlyList<(ModelRoute Route, DateTime? UpdatedAt)>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var own = (await connection.QueryAsync<AliasRow>(
            "SELECT alias, strategy, deployments::text, updated_at FROM model_aliases WHERE tenant_id = @tenantId ORDER BY alias",
            new { tenantId })).Select(r => (TenantRoute(tenantId, r), (DateTime?)r.UpdatedAt)).ToList();
        var shared = options.CurrentValue.Aliases
            .Where(a => own.All(o => o.Item1.Alias != a.Key))
            .OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => (Route(a.Key, a.Value), (DateTime?)null));
        return [.. own, .. shared];
    }

    public async Task<DateTime> PutAsync(string tenantId, string alias, AliasDefinition definition)
    {
        _resolved.Remove((tenantId, alias));
        var stored = definition.Deployments.Select(d => d.WithApiKey(d.ApiKey is { } key ? secrets.Protect(key) : null)).ToList();
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<DateTime>("""
            INSERT INTO model_aliases (tenant_id, alias, strategy, deployments)
            VALUES (@tenantId, @alias, @Strategy, @deployments::jsonb)
            ON CONFLICT (tenant_id, alias) DO UPDATE
            SET strategy = excluded.strategy, deployments = excluded.deployments, updated_at = now()
            RETURNING updated_at
            """, new { tenantId, alias, definition.Strategy, deployments = WriteDeployments(stored) });
    }

    public async Task<bool> DeleteAsync(string tenantId, string alias)
    {
        _resolved.Remove((tenantId, alias));
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteAsync("DELETE FROM model_aliases WHERE tenant_id = @tenantId AND alias = @alias", new { tenantId, alias }) > 0;
    }

    private static ModelRoute Route(string alias, AliasDefinition definition) =>
        new(alias, definition.Strategy, definition.Deployments.Select(d => ModelDeployment.From(alias, d)).ToList());

    private ModelRoute TenantRoute(string tenantId, AliasRow row) => new(row.Alias, row.Strategy, ReadDeployments(row.Deployments)
        .Select(d => ModelDeployment.From(row.Alias, d, tenantId) with { CredentialId = CredentialId(d.ApiKey) }).ToList());

    /// <summary>A key that cannot be decrypted fails its deployment before any call, so it has no health to tell apart.</summary>
    private string? CredentialId(string? storedKey)
    {
        try
        {
            return storedKey is null ? null : secrets.Fingerprint(storedKey);
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            return null;
        }
    }

    internal static List<DeploymentDefinition> ReadDeployments(string json) => JsonSerializer.Deserialize<List<DeploymentDefinition>>(json, Json)!;

    internal static string WriteDeployments(List<DeploymentDefinition> deployments) => JsonSerializer.Serialize(deployments, Json);

    private sealed record AliasRow(string Alias, string Strategy, string Deployments, DateTime UpdatedAt);
}
