using System.Net;

namespace Platform.Tests;

[Collection(PlatformCollection.Name)]
public sealed class DashboardTests(PlatformFixture platform)
{
    [Fact]
    public async Task AVisitorWithoutAKeyIsSentToSignIn()
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = platform.AppHost.Url("dashboard") };

        using var response = await client.GetAsync("/");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task ABadKeyDoesNotSignIn()
    {
        using var client = new HttpClient { BaseAddress = platform.AppHost.Url("dashboard") };

        using var response = await client.PostAsync("/login", new FormUrlEncodedContent([new("apiKey", "plt_wrong")]));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("unknown, expired or revoked", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SigningInShowsEveryServiceHealthy()
    {
        var cookies = new CookieContainer();
        using var client = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = platform.AppHost.Url("dashboard") };
        var (tenantId, key) = await platform.NewTenantAsync("runs");

        using var response = await client.PostAsync("/login", new FormUrlEncodedContent([new("apiKey", key)]));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(tenantId, page, StringComparison.Ordinal);
        foreach (var service in new[] { "orchestrator", "planning", "model", "tool" })
        {
            Assert.Matches($"data-service=\"{service}\">\\s*<td>{service}</td>\\s*<td class=\"Healthy\">", page);
        }

        var cookie = cookies.GetAllCookies().Single();
        Assert.True(cookie.HttpOnly);
    }
}
