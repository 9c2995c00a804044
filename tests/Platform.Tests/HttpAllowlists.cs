using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Tests;

internal static class HttpAllowlists
{
    /// <summary>
    /// Grants <paramref name="url"/>'s host and port, as the platform operator, to the tenant of <paramref name="tenantKey"/>
    /// beside what it was granted before: a tenant's loopback destination, such as a test's fake upstream, is refused
    /// otherwise, and only a platform admin acting as the tenant may grant one.
    /// </summary>
    public static async Task GrantPrivateAsync(this PlatformApp app, string tenantKey, string url)
    {
        var uri = new Uri(url);
        using var tenant = app.Client("orchestrator", tenantKey);
        var tenantId = (await tenant.GetFromJsonAsync<JsonElement>("/v1/me")).GetProperty("tenantId").GetString()!;
        using var operatorClient = app.Client("tool", app.AdminApiKey);
        operatorClient.DefaultRequestHeaders.Add("Platform-Tenant", tenantId);
        var granted = await operatorClient.GetFromJsonAsync<JsonElement>("/v1/tool-settings/private-grants");
        var hosts = granted.GetProperty("hosts").EnumerateArray().Select(h => h.GetString()!).Append($"{uri.Host}:{uri.Port}").Distinct().ToArray();
        (await operatorClient.PutAsJsonAsync("/v1/tool-settings/private-grants", new { hosts })).EnsureSuccessStatusCode();
    }
}
