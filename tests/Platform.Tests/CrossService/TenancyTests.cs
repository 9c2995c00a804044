using System.Net;
using System.Net.Http.Json;
using Platform.Tests.Planning;
using Platform.Tests.Tool;

namespace Platform.Tests.CrossService;

[Collection(PlatformCollection.Name)]
public sealed class TenancyTests(PlatformFixture platform)
{
    [Fact]
    public async Task OneTenantCannotSeeAnothersPlans()
    {
        var (_, alice) = await platform.NewTenantAsync("plans", "tools");
        var (_, bob) = await platform.NewTenantAsync("plans");
        using var alicePlanning = platform.AppHost.Client("planning", alice);
        using var bobPlanning = platform.AppHost.Client("planning", bob);
        using var created = await PlanningTests.PostAsync(alicePlanning, "/v1/plans", PlanningTests.ValidPlan);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var location = created.Headers.Location!.ToString();

        Assert.Equal(HttpStatusCode.OK, (await alicePlanning.GetAsync(location)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobPlanning.GetAsync(location)).StatusCode);
        Assert.Equal("[]", await bobPlanning.GetStringAsync("/v1/plans"));
    }

    [Fact]
    public async Task OneTenantCannotSeeOrChangeAnothersTools()
    {
        var (_, alice) = await platform.NewTenantAsync("tools");
        var (_, bob) = await platform.NewTenantAsync("tools");
        using var aliceTools = platform.AppHost.Client("tool", alice);
        using var bobTools = platform.AppHost.Client("tool", bob);
        (await aliceTools.PutAsJsonAsync("/v1/tools/http.secret", ToolsTests.WeatherTool)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.NotFound, (await bobTools.GetAsync("/v1/tools/http.secret")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobTools.PostAsJsonAsync("/v1/tools/http.secret/invocations",
            new { idempotencyKey = "k1", arguments = new { city = "Paris" } })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bobTools.DeleteAsync("/v1/tools/http.secret")).StatusCode);
        Assert.DoesNotContain("http.secret", await bobTools.GetStringAsync("/v1/tools"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await aliceTools.GetAsync("/v1/tools/http.secret")).StatusCode);
    }

    [Fact]
    public async Task ATenantAdminManagesOnlyItsOwnKeys()
    {
        var (aliceTenant, aliceAdmin) = await platform.NewTenantAsync("admin");
        var (bobTenant, _) = await platform.NewTenantAsync("admin");
        using var orchestrator = platform.AppHost.Client("orchestrator", aliceAdmin);

        var own = await orchestrator.PostAsJsonAsync($"/v1/tenants/{aliceTenant}/keys", new { name = "worker", scopes = new[] { "runs" } });
        var other = await orchestrator.PostAsJsonAsync($"/v1/tenants/{bobTenant}/keys", new { name = "intruder", scopes = new[] { "admin" } });

        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await orchestrator.GetAsync($"/v1/tenants/{bobTenant}/keys")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await orchestrator.PostAsJsonAsync("/v1/tenants", new { id = "sneaky", name = "x" })).StatusCode);
    }

    [Fact]
    public async Task ATenantCannotRevokeAnothersKey()
    {
        var (_, aliceAdmin) = await platform.NewTenantAsync("admin");
        var (bobTenant, bobKey) = await platform.NewTenantAsync("admin");
        using var bobClient = platform.AppHost.Client("orchestrator", bobKey);
        var bobKeyId = (await bobClient.GetFromJsonAsync<Me>("/v1/me"))!.KeyId;
        using var alice = platform.AppHost.Client("orchestrator", aliceAdmin);

        Assert.Equal(HttpStatusCode.NotFound, (await alice.DeleteAsync($"/v1/tenants/{bobTenant}/keys/{bobKeyId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bobClient.GetAsync("/v1/me")).StatusCode);
    }

    private sealed record Me(string TenantId, string KeyId);
}
