using System.Net.Http.Json;
using Platform.TestSupport;

namespace Platform.Tests;

internal static class HttpAllowlists
{
    public static Task AllowAsync(this PlatformFixture platform, string adminKey, string url) => platform.AppHost.AllowAsync(adminKey, url);

    /// <summary>
    /// Puts <paramref name="url"/>'s host and port on the HTTP allowlist of <paramref name="adminKey"/>'s tenant, through
    /// the tool service that owns the list: the gateway refuses a tenant's loopback upstream, such as a test's fake, otherwise.
    /// </summary>
    public static async Task AllowAsync(this PlatformApp platform, string adminKey, string url)
    {
        var uri = new Uri(url);
        using var tool = platform.Client("tool", adminKey);
        (await tool.PutAsJsonAsync("/v1/tool-settings/http-allowlist", new { hosts = new[] { $"{uri.Host}:{uri.Port}" } })).EnsureSuccessStatusCode();
    }
}
