using Platform.Dashboard.Session;

namespace Platform.Dashboard.Clients;

/// <summary>The model gateway's catalog, usage and budgets, called with the signed-in operator's key.</summary>
public sealed class ModelClient(HttpClient http, SignedInKey key) : ServiceClient(http, key, "model gateway")
{
    /// <summary>The model aliases the key can use; null when the key may not list them.</summary>
    public async Task<IReadOnlyList<string>?> ModelIdsAsync(CancellationToken cancellationToken) =>
        (await SendAsync<ModelList>(HttpMethod.Get, "/v1/models", cancellationToken, options: new(ForbiddenIsNull: true)))?.Data.Select(m => m.Id).ToList();

    /// <summary>The tenant's aliases with their deployments and prices; null without the admin scope.</summary>
    public Task<IReadOnlyList<ModelAlias>?> CatalogAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<ModelAlias>>(HttpMethod.Get, "/v1/catalog", cancellationToken, options: new(ForbiddenIsNull: true));

    /// <summary>
    /// The tenant's usage by day, model and key from <paramref name="from"/> to <paramref name="to"/> (UTC dates); null
    /// without the admin scope. A platform admin may name the tenant (<paramref name="tenantId"/>) instead of the one shown.
    /// </summary>
    public async Task<IReadOnlyList<UsageRow>?> UsageAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken, string? tenantId = null) =>
        (await SendAsync<UsageList>(HttpMethod.Get, $"/v1/usage?from={from:yyyy-MM-dd}&to={to:yyyy-MM-dd}", cancellationToken,
            options: new(ForbiddenIsNull: true, AsTenant: tenantId)))?.Data;

    /// <summary>
    /// The tenant's budgets (the tenant-wide one has an empty key id); null without the admin scope. Asked as the key's
    /// own tenant: a platform admin reads any tenant's, a tenant's admin its own.
    /// </summary>
    public Task<IReadOnlyList<Budget>?> BudgetsAsync(string tenantId, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<Budget>>(HttpMethod.Get, $"/v1/budgets/tenants/{Uri.EscapeDataString(tenantId)}", cancellationToken,
            options: new(ForbiddenIsNull: true, NotFoundIsNull: true, AsKeyTenant: true));

    /// <summary>Every tenant's spend today against its daily budget, as the platform admin (never as a chosen tenant); null for anyone else.</summary>
    public async Task<IReadOnlyList<TenantSpend>?> SpendByTenantAsync(CancellationToken cancellationToken) =>
        (await SendAsync<TenantSpendList>(HttpMethod.Get, "/v1/usage/tenants", cancellationToken, options: new(ForbiddenIsNull: true, AsKeyTenant: true)))?.Data;

    private sealed record TenantSpendList(IReadOnlyList<TenantSpend> Data);

    private sealed record ModelList(IReadOnlyList<ModelEntry> Data);

    private sealed record ModelEntry(string Id);

    private sealed record UsageList(IReadOnlyList<UsageRow> Data);
}
