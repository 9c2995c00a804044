using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Benchmarks;

internal static class Setup
{
    /// <summary>
    /// A tenant whose key has a budget and rate limits high enough never to refuse, so they are on but not in the way;
    /// with an <paramref name="upstream"/>, its alias <c>bench</c> is routed there.
    /// </summary>
    public static Task<string> TenantWithLimitsAsync(PlatformApp platform, string? upstream) =>
        TenantWithLimitsAsync(platform.Url, platform.AdminApiKey, upstream);

    /// <summary>The same on a platform whose services are at <paramref name="url"/>, such as an AppHost run as a process.</summary>
    public static async Task<string> TenantWithLimitsAsync(Func<string, Uri> url, string adminApiKey, string? upstream)
    {
        var tenantId = $"bench-{Guid.NewGuid():N}"[..16];
        using var admin = PlatformApp.ClientFor(url("orchestrator"), adminApiKey);
        (await admin.PostAsJsonAsync("/v1/tenants", new { id = tenantId, name = "Benchmark" })).EnsureSuccessStatusCode();
        var issued = await (await admin.PostAsJsonAsync($"/v1/tenants/{tenantId}/keys", new { name = "bench", scopes = new[] { "admin" } })).Content.ReadFromJsonAsync<JsonElement>();
        var key = issued.GetProperty("key").GetString()!;
        var keyId = issued.GetProperty("apiKey").GetProperty("id").GetString()!;

        using var model = PlatformApp.ClientFor(url("model"), key);
        if (upstream is not null)
        {
            // A tenant's upstream on a loopback address is refused unless the platform operator granted it to the tenant.
            var mock = new Uri(upstream);
            using var tool = PlatformApp.ClientFor(url("tool"), adminApiKey);
            tool.DefaultRequestHeaders.Add("Platform-Tenant", tenantId);
            (await tool.PutAsJsonAsync("/v1/tool-settings/private-grants", new { hosts = new[] { $"{mock.Host}:{mock.Port}" } })).EnsureSuccessStatusCode();
            (await model.PutAsJsonAsync("/v1/catalog/bench", new
            {
                strategy = "ordered",
                deployments = new[] { new { provider = "openai", baseUrl = upstream, model = "mock", inputPricePerMillion = 0.15, outputPricePerMillion = 0.6 } },
            })).EnsureSuccessStatusCode();
        }

        using var platformAdmin = PlatformApp.ClientFor(url("model"), adminApiKey);
        (await platformAdmin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = 1_000_000, monthlyUsd = 10_000_000 })).EnsureSuccessStatusCode();
        (await model.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}/keys/{keyId}", new { dailyUsd = 1_000_000, rpm = 10_000_000, tpm = 1_000_000_000 }))
            .EnsureSuccessStatusCode();
        return key;
    }
}
