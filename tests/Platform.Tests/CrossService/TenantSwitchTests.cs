using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests.CrossService;

/// <summary>A platform admin's key acts as another tenant with the Platform-Tenant header; no other key may.</summary>
[Collection(PlatformCollection.Name)]
public sealed class TenantSwitchTests(PlatformFixture platform)
{
    private const string Header = "Platform-Tenant";

    [Fact]
    public async Task APlatformAdminActsAsATenantInEveryServiceWithTheHeader()
    {
        var (tenantId, key) = await platform.NewTenantAsync("runs", "agents", "tools");
        await Runs.CreateAgentAsync(platform.AppHost, key, "switched");
        using var own = platform.AppHost.Client("orchestrator", key);
        var runId = (await Runs.StartAsync(own, "switched", "draft a note")).Id();
        using var ownTools = platform.AppHost.Client("tool", key);
        var invocationId = (await InvokeCalculatorAsync(ownTools)).GetProperty("id").GetString();
        using var asTenant = Acting(platform.Admin("orchestrator"), tenantId);
        using var asTenantTools = Acting(platform.Admin("tool"), tenantId);
        using var admin = platform.Admin("orchestrator");

        var me = await asTenant.GetFromJsonAsync<JsonElement>("/v1/me");
        Assert.Equal(tenantId, me.GetProperty("tenantId").GetString());
        Assert.Contains(runId, await asTenant.GetStringAsync("/v1/runs?limit=200"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await asTenant.GetAsync($"/v1/runs/{runId}")).StatusCode);
        Assert.Contains(invocationId!, await asTenantTools.GetStringAsync("/v1/invocations"), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"/v1/runs/{runId}")).StatusCode);
        Assert.Equal("system", (await admin.GetFromJsonAsync<JsonElement>("/v1/me")).GetProperty("tenantId").GetString());
    }

    /// <summary>The refusal comes in the path's error shape: problem+json, or OpenAI's on the gateway's OpenAI paths.</summary>
    [Theory]
    [InlineData("orchestrator", "/v1/runs", "application/problem+json")]
    [InlineData("tool", "/v1/tools", "application/problem+json")]
    [InlineData("model", "/v1/usage", "application/problem+json")]
    [InlineData("model", "/v1/models", "application/json")]
    public async Task ATenantAdminsKeySendingTheHeaderIsRefusedWith403(string service, string path, string mediaType)
    {
        var (victim, _) = await platform.NewTenantAsync("runs");
        var (own, adminKey) = await platform.NewTenantAsync("admin");
        using var intruder = Acting(platform.AppHost.Client(service, adminKey), victim);
        using var itself = Acting(platform.AppHost.Client(service, adminKey), own);

        using var refused = await intruder.GetAsync(path);

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(mediaType, refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains(Header, await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await itself.GetAsync(path)).StatusCode);
    }

    [Fact]
    public async Task ASystemKeyWithoutTheAdminScopeCannotSwitch()
    {
        var (tenantId, _) = await platform.NewTenantAsync("runs");
        var systemRunsKey = await platform.IssueKeyAsync("system", "runs");
        using var client = Acting(platform.AppHost.Client("orchestrator", systemRunsKey), tenantId);

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/v1/runs")).StatusCode);
    }

    [Fact]
    public async Task AnUnknownOrDeactivatedTenantIsRefused()
    {
        var (tenantId, _) = await platform.NewTenantAsync("runs");
        using var admin = platform.Admin("orchestrator");
        using var unknown = Acting(platform.Admin("orchestrator"), "no-such-tenant");
        using var asTenant = Acting(platform.Admin("orchestrator"), tenantId);
        using var asTenantTools = Acting(platform.Admin("tool"), tenantId);

        Assert.Equal(HttpStatusCode.Forbidden, (await unknown.GetAsync("/v1/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await asTenant.GetAsync("/v1/runs")).StatusCode);
        (await admin.PostAsync($"/v1/tenants/{tenantId}/deactivate", null)).EnsureSuccessStatusCode();
        using var refused = await asTenant.GetAsync("/v1/runs");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("deactivated", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await asTenantTools.GetAsync("/v1/tools")).StatusCode);
        (await admin.PostAsync($"/v1/tenants/{tenantId}/activate", null)).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.OK, (await asTenant.GetAsync("/v1/runs")).StatusCode);
    }

    [Fact]
    public async Task ATenantsKeyNeverSeesAnothersDataWithOrWithoutTheHeader()
    {
        var (first, firstKey) = await platform.NewTenantAsync("runs", "agents", "tools");
        await Runs.CreateAgentAsync(platform.AppHost, firstKey, "private");
        using var firstClient = platform.AppHost.Client("orchestrator", firstKey);
        var runId = (await Runs.StartAsync(firstClient, "private", "draft a secret note")).Id();
        var (_, secondKey) = await platform.NewTenantAsync("runs", "tools");
        using var second = platform.AppHost.Client("orchestrator", secondKey);
        using var secondActing = Acting(platform.AppHost.Client("orchestrator", secondKey), first);
        using var secondToolsActing = Acting(platform.AppHost.Client("tool", secondKey), first);

        Assert.Equal(HttpStatusCode.Forbidden, (await secondActing.GetAsync($"/v1/runs/{runId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await secondActing.GetAsync("/v1/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await secondToolsActing.GetAsync("/v1/invocations")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await second.GetAsync($"/v1/runs/{runId}")).StatusCode);
        Assert.DoesNotContain(runId, await second.GetStringAsync("/v1/runs?limit=200"), StringComparison.Ordinal);
    }

    private static HttpClient Acting(HttpClient client, string tenantId)
    {
        client.DefaultRequestHeaders.Add(Header, tenantId);
        return client;
    }

    internal static async Task<JsonElement> InvokeCalculatorAsync(HttpClient tool)
    {
        using var response = await tool.PostAsJsonAsync("/v1/tools/builtin.calculator/invocations",
            new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { expression = "6 * 7" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }
}
