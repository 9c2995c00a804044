using System.Net.Http.Json;
using Platform.TestSupport;

namespace Platform.Tests;

/// <summary>
/// One real platform (the AppHost under Aspire.Hosting.Testing: PostgreSQL, Redis, five services, two gateway replicas)
/// shared by the tests of the collection.
/// </summary>
public sealed class PlatformFixture : IAsyncLifetime
{
    private PlatformApp? _app;

    public PlatformApp AppHost => _app ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync() => _app = await PlatformApp.StartAsync("Replicas:model=2");

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    public HttpClient Admin(string service) => AppHost.Client(service, AppHost.AdminApiKey);

    /// <summary>A new tenant with a key holding <paramref name="scopes"/>; returns the tenant id and the key.</summary>
    public async Task<(string TenantId, string Key)> NewTenantAsync(params string[] scopes)
    {
        var tenantId = $"t-{Guid.NewGuid():N}"[..20];
        using var orchestrator = Admin("orchestrator");
        (await orchestrator.PostAsJsonAsync("/v1/tenants", new { id = tenantId, name = "Test tenant" })).EnsureSuccessStatusCode();
        return (tenantId, await IssueKeyAsync(tenantId, scopes));
    }

    public async Task<string> IssueKeyAsync(string tenantId, params string[] scopes)
    {
        using var orchestrator = Admin("orchestrator");
        var response = await orchestrator.PostAsJsonAsync($"/v1/tenants/{tenantId}/keys", new { name = "test", scopes });
        response.EnsureSuccessStatusCode();
        var issued = await response.Content.ReadFromJsonAsync<IssuedKey>();
        return issued!.Key;
    }

    private sealed record IssuedKey(string Key);
}

[CollectionDefinition(Name)]
public sealed class PlatformCollection : ICollectionFixture<PlatformFixture>
{
    public const string Name = "platform";
}
