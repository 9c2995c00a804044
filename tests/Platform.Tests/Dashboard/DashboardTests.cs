using System.Net;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Platform.Tests.Dashboard;

[Collection(PlatformCollection.Name)]
public sealed partial class DashboardTests(PlatformFixture platform)
{
    [Theory]
    [InlineData("/")]
    [InlineData("/runs")]
    [InlineData("/approvals")]
    [InlineData("/agents")]
    [InlineData("/tools")]
    [InlineData("/models")]
    [InlineData("/keys")]
    public async Task AVisitorWithoutAKeyIsSentToSignIn(string page)
    {
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = platform.AppHost.Url("dashboard") };

        using var response = await client.GetAsync(page);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task ABadKeyDoesNotSignIn()
    {
        var (client, cookies) = NewClient();
        using var _ = client;

        using var response = await client.PostAsync("/login", await SignInFormAsync(client, "plt_wrong"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("unknown, expired or revoked", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(cookies.GetAllCookies(), c => c.Name == "platform_api_key");
    }

    [Fact]
    public async Task ASignInPostWithoutTheAntiforgeryTokenIsRefused()
    {
        var (client, cookies) = NewClient();
        using var _ = client;
        var (_, key) = await platform.NewTenantAsync("runs");

        using var response = await client.PostAsync("/login", new FormUrlEncodedContent([new("_handler", "login"), new("apiKey", key)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(cookies.GetAllCookies(), c => c.Name == "platform_api_key");
    }

    [Fact]
    public async Task ASignOutPostWithoutTheAntiforgeryTokenIsRefused()
    {
        var (client, _) = NewClient();
        using var _ = client;

        using var response = await client.PostAsync("/logout", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task SigningInShowsEveryServiceHealthy()
    {
        var (client, cookies) = NewClient();
        using var _ = client;
        var (tenantId, key) = await platform.NewTenantAsync("runs");

        using var response = await client.PostAsync("/login", await SignInFormAsync(client, key));
        var page = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(tenantId, page, StringComparison.Ordinal);
        foreach (var service in new[] { "orchestrator", "planning", "model", "tool" })
        {
            Assert.Matches($"data-service=\"{service}\">\\s*<td>{service}</td>\\s*<td class=\"Healthy\">", page);
        }

        var cookie = Assert.Single(cookies.GetAllCookies(), c => c.Name == "platform_api_key");
        Assert.True(cookie.HttpOnly);
    }

    [Fact]
    public async Task OnlyAPlatformAdminSwitchesTenant()
    {
        var (client, cookies) = NewClient();
        using var _ = client;
        var (_, key) = await platform.NewTenantAsync("admin");
        var (otherTenant, _) = await platform.NewTenantAsync("runs");
        using var signedIn = await client.PostAsync("/login", await SignInFormAsync(client, key));
        var token = AntiforgeryToken().Match(await signedIn.Content.ReadAsStringAsync());
        Assert.True(token.Success, "The signed-in page carries no antiforgery token.");

        using var response = await client.PostAsync("/tenant", new FormUrlEncodedContent(
            [new("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value)), new("tenant", otherTenant), new("returnUrl", "/")]));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain(cookies.GetAllCookies(), c => c.Name == "platform_tenant");
    }

    [Fact]
    public async Task ATenantSwitchPostWithoutTheAntiforgeryTokenIsRefused()
    {
        var (client, cookies) = NewClient();
        using var _ = client;
        using var signedIn = await client.PostAsync("/login", await SignInFormAsync(client, platform.AppHost.AdminApiKey));
        var (otherTenant, _) = await platform.NewTenantAsync("runs");

        using var response = await client.PostAsync("/tenant", new FormUrlEncodedContent([new("tenant", otherTenant)]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain(cookies.GetAllCookies(), c => c.Name == "platform_tenant");
    }

    [Fact]
    public async Task ASignInFormServedBeforeTheDashboardRestartsIsAcceptedAfterIt()
    {
        var (client, cookies) = NewClient();
        using var _ = client;
        var (_, key) = await platform.NewTenantAsync("runs");
        var form = await SignInFormAsync(client, key);

        // A new process reads the form's antiforgery token only with the key ring every replica shares, in Redis.
        await platform.AppHost.RunCommandAsync(platform.AppHost.Replicas("dashboard").Single().Id, "restart");
        await platform.AppHost.WaitUntilReplicasServeAsync("dashboard", 1);
        using var response = await client.PostAsync("/login", form);

        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Contains(cookies.GetAllCookies(), c => c.Name == "platform_api_key");
        using var redis = await ConnectionMultiplexer.ConnectAsync(platform.AppHost.ConnectionString("cache"));
        var keyRing = await redis.GetDatabase().ListRangeAsync("platform:dashboard:data-protection-keys");
        Assert.Contains(keyRing, k => k.ToString().Contains("<key id=", StringComparison.Ordinal));
    }

    private (HttpClient Client, CookieContainer Cookies) NewClient()
    {
        var cookies = new CookieContainer();
        return (new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = platform.AppHost.Url("dashboard") }, cookies);
    }

    /// <summary>The sign-in form as a browser posts it: the key, the form's name and the antiforgery token the page carries.</summary>
    private static async Task<FormUrlEncodedContent> SignInFormAsync(HttpClient client, string key)
    {
        var page = await client.GetStringAsync("/login");
        var token = AntiforgeryToken().Match(page);
        Assert.True(token.Success, "The sign-in page carries no antiforgery token.");
        return new FormUrlEncodedContent([new("_handler", "login"), new("__RequestVerificationToken", WebUtility.HtmlDecode(token.Groups[1].Value)), new("apiKey", key)]);
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryToken();
}
