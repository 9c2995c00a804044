using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tests.CrossService;

/// <summary>Platform admins deactivate and delete tenants: keys stop working at once, data is purged after retention.</summary>
[Collection(PlatformCollection.Name)]
public sealed class TenantLifecycleTests(PlatformFixture platform)
{
    [Fact]
    public async Task DeactivatingATenantRevokesItsKeysEverywhereAtOnceAndActivatingGivesNoOldKeyBack()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var tool = platform.AppHost.Client("tool", key);
        using var model = platform.AppHost.Client("model", key);
        Assert.Equal(HttpStatusCode.OK, (await tool.GetAsync("/v1/tools")).StatusCode);

        using var admin = platform.Admin("orchestrator");
        using var deactivated = await admin.PostAsync($"/v1/tenants/{tenantId}/deactivate", null);

        Assert.Equal(HttpStatusCode.OK, deactivated.StatusCode);
        Assert.Equal("deactivated", (await deactivated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await AssertRevokedAsync(tool, "/v1/tools");
        await AssertRevokedAsync(model, "/v1/models");
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync($"/v1/tenants/{tenantId}/keys", new { name = "k", scopes = new[] { "admin" } })).StatusCode);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/v1/tenants/{tenantId}/activate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await tool.GetAsync("/v1/tools")).StatusCode);
        var newKey = await platform.IssueKeyAsync(tenantId, "tools");
        using var again = platform.AppHost.Client("tool", newKey);
        Assert.Equal(HttpStatusCode.OK, (await again.GetAsync("/v1/tools")).StatusCode);
    }

    [Fact]
    public async Task ADeletedTenantsKeysStopAndItsDataIsPurgedWhenItsRetentionEnds()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using (var planning = platform.AppHost.Client("planning", key))
        {
            (await planning.PostAsJsonAsync("/v1/plans", new { goal = "g", steps = new[] { new { id = "a", title = "A", kind = "model" } } })).EnsureSuccessStatusCode();
        }

        using (var tool = platform.AppHost.Client("tool", key))
        {
            (await tool.PutAsJsonAsync("/v1/tool-settings/http-allowlist", new { hosts = new[] { "example.com" } })).EnsureSuccessStatusCode();
        }

        using (var modelAdmin = platform.Admin("model"))
        {
            (await modelAdmin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = 5 })).EnsureSuccessStatusCode();
        }

        Assert.Equal(1, await CountAsync("planningdb", "plans", tenantId));
        Assert.Equal(1, await CountAsync("tooldb", "http_allowlist", tenantId));
        Assert.Equal(1, await CountAsync("modeldb", "budgets", tenantId));

        using var admin = platform.Admin("orchestrator");
        using var deleted = await admin.DeleteAsync($"/v1/tenants/{tenantId}?retentionDays=0");

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal("deleted", (await deleted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        using var planningAfter = platform.AppHost.Client("planning", key);
        Assert.Equal(HttpStatusCode.Unauthorized, (await planningAfter.GetAsync("/v1/plans")).StatusCode);
        await WaitUntilAsync("every service to delete the tenant's rows", TimeSpan.FromSeconds(30), async () =>
            await CountAsync("planningdb", "plans", tenantId) == 0
            && await CountAsync("orchestratordb", "api_keys", tenantId) == 0
            && await CountAsync("tooldb", "http_allowlist", tenantId) == 0
            && await CountAsync("modeldb", "budgets", tenantId) == 0);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/v1/tenants", new { id = tenantId, name = "again" })).StatusCode);
    }

    [Fact]
    public async Task OnlyPlatformAdminsChangeATenantAndNeverTheSystemTenant()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var tenantAdmin = platform.AppHost.Client("orchestrator", key);
        using var admin = platform.Admin("orchestrator");

        Assert.Equal(HttpStatusCode.Forbidden, (await tenantAdmin.PostAsync($"/v1/tenants/{tenantId}/deactivate", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenantAdmin.DeleteAsync($"/v1/tenants/{tenantId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.DeleteAsync("/v1/tenants/system")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.DeleteAsync($"/v1/tenants/{tenantId}?retentionDays=-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/v1/tenants/no-such-tenant/deactivate", null)).StatusCode);
    }

    /// <summary>
    /// Revocations are published to every service's key cache as they happen; a service that has not yet received the
    /// message trusts its cached key for at most the cache's 2 seconds, the documented bound.
    /// </summary>
    private static async Task AssertRevokedAsync(HttpClient client, string path)
    {
        await WaitUntilAsync($"{path} to refuse the revoked key", TimeSpan.FromSeconds(2.5), async () => (await client.GetAsync(path)).StatusCode,
            status => status == HttpStatusCode.Unauthorized, status => $"{(int)status}");
    }

    private async Task<long> CountAsync(string database, string table, string tenantId)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString(database));
        return await connection.ExecuteScalarAsync<long>($"SELECT count(*) FROM {table} WHERE tenant_id = @tenantId", new { tenantId });
    }
}
