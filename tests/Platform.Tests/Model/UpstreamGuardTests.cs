using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests.Model;

/// <summary>
/// A tenant's alias reaches its base URL only through the outbound guard: a loopback, private or metadata address is
/// refused before any connection is made, until the platform operator grants it; the tenant's own allowlist only narrows.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class UpstreamGuardTests(PlatformFixture platform) : IAsyncLifetime
{
    private readonly CountingListener _listener = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _listener.DisposeAsync();

    [Fact]
    public async Task ALoopbackBaseUrlIsRefusedWithoutAConnectionUntilThePlatformOperatorGrantsIt()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("model", key);
        await PutAliasAsync(client, "local", $"http://127.0.0.1:{_listener.Port}/v1");

        using var plain = await ChatAsync(client, "local", stream: false);
        using var streamed = await ChatAsync(client, "local", stream: true);

        var error = await RefusalAsync(plain);
        Assert.Contains("127.0.0.1", error, StringComparison.Ordinal);
        await RefusalAsync(streamed);
        Assert.Equal(0, _listener.Accepted);

        using var tool = platform.AppHost.Client("tool", key);
        using var byTenant = await tool.PutAsJsonAsync("/v1/tool-settings/http-allowlist", new { hosts = new[] { "127.0.0.1" } });
        using var grantByTenant = await tool.PutAsJsonAsync("/v1/tool-settings/private-grants", new { hosts = new[] { "127.0.0.1" } });
        Assert.Equal(HttpStatusCode.BadRequest, byTenant.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, grantByTenant.StatusCode);
        using var asOperator = platform.Admin("tool");
        asOperator.DefaultRequestHeaders.Add("Platform-Tenant", tenantId);
        (await asOperator.PutAsJsonAsync("/v1/tool-settings/private-grants", new { hosts = new[] { "127.0.0.1" } })).EnsureSuccessStatusCode();
        var answer = await EventuallyOkAsync(client, "local");

        Assert.Equal("Hello from the listener", answer);
        Assert.True(_listener.Accepted >= 1);
    }

    [Theory]
    [InlineData("http://localhost:{port}/v1")]
    [InlineData("http://[::ffff:127.0.0.1]:{port}/v1")]
    [InlineData("http://2130706433:{port}/v1")]
    [InlineData("http://169.254.169.254/latest")]
    [InlineData("http://10.0.0.1:{port}/v1")]
    public async Task AnInternalAddressInAnyFormIsRefused(string baseUrl)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("model", key);
        await PutAliasAsync(client, "internal", baseUrl.Replace("{port}", _listener.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        using var response = await ChatAsync(client, "internal", stream: false);

        await RefusalAsync(response);
        Assert.Equal(0, _listener.Accepted);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost:5432")]
    [InlineData("169.254.169.254")]
    [InlineData("10.0.0.5")]
    [InlineData("192.168.1.1:80")]
    [InlineData("postgres")]
    [InlineData("cache:6379")]
    [InlineData("metadata.google.internal")]
    public async Task ATenantCannotPutAPrivateLoopbackOrPlatformHostOnItsAllowlist(string host)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var tool = platform.AppHost.Client("tool", key);

        using var response = await tool.PutAsJsonAsync("/v1/tool-settings/http-allowlist", new { hosts = new[] { "api.example.com", host } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("platform operator", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("[]", (await tool.GetFromJsonAsync<JsonElement>("/v1/tool-settings/http-allowlist")).GetProperty("hosts").GetRawText());
    }

    [Fact]
    public async Task ATenantReadsTheGrantsThePlatformOperatorMadeForItButNoOtherTenantSeesThem()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        var (_, otherKey) = await platform.NewTenantAsync("admin");
        using var asOperator = platform.Admin("tool");
        asOperator.DefaultRequestHeaders.Add("Platform-Tenant", tenantId);
        (await asOperator.PutAsJsonAsync("/v1/tool-settings/private-grants", new { hosts = new[] { "models.internal:8000" } })).EnsureSuccessStatusCode();

        using var tool = platform.AppHost.Client("tool", key);
        using var other = platform.AppHost.Client("tool", otherKey);

        Assert.Equal("""["models.internal:8000"]""", (await tool.GetFromJsonAsync<JsonElement>("/v1/tool-settings/private-grants")).GetProperty("hosts").GetRawText());
        Assert.Equal("[]", (await other.GetFromJsonAsync<JsonElement>("/v1/tool-settings/private-grants")).GetProperty("hosts").GetRawText());
    }

    [Fact]
    public async Task ATenantWithAnAllowlistReachesOnlyTheHostsOnIt()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var tool = platform.AppHost.Client("tool", key);
        (await tool.PutAsJsonAsync("/v1/tool-settings/http-allowlist", new { hosts = new[] { "api.example.com" } })).EnsureSuccessStatusCode();
        using var client = platform.AppHost.Client("model", key);
        await PutAliasAsync(client, "elsewhere", $"http://127.0.0.1:{_listener.Port}/v1");

        using var response = await ChatAsync(client, "elsewhere", stream: false);

        Assert.Contains("allowlist", await RefusalAsync(response), StringComparison.Ordinal);
        Assert.Equal(0, _listener.Accepted);
    }

    [Fact]
    public async Task ARefusedDeploymentFallsBackToTheNextWithoutCoolingDown()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("model", key);
        (await client.PutAsJsonAsync("/v1/catalog/fallback", new
        {
            strategy = "ordered",
            deployments = new object[]
            {
                new { name = "local", provider = "openai", baseUrl = $"http://127.0.0.1:{_listener.Port}/v1", model = "m" },
                new { name = "simulated", provider = "simulator", model = "platform-simulator-1" },
            },
        })).EnsureSuccessStatusCode();

        using var response = await ChatAsync(client, "fallback", stream: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("simulated", response.Headers.GetValues("x-platform-deployment").Single());
        Assert.Equal(0, _listener.Accepted);
    }

    private static async Task PutAliasAsync(HttpClient client, string alias, string baseUrl) =>
        (await client.PutAsJsonAsync($"/v1/catalog/{alias}", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "openai", baseUrl, apiKey = "sk-guarded", model = "m" } },
        })).EnsureSuccessStatusCode();

    private static Task<HttpResponseMessage> ChatAsync(HttpClient client, string alias, bool stream) =>
        client.PostAsJsonAsync("/v1/chat/completions", new { model = alias, stream, messages = new[] { new { role = "user", content = "hi" } } });

    /// <summary>The refusal's message, after checking it is a 400 in OpenAI's shape saying the address is refused.</summary>
    private static async Task<string> RefusalAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        var error = document.RootElement.GetProperty("error");
        Assert.Equal("upstream_address_refused", error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.Contains("address is refused", message, StringComparison.Ordinal);
        return message;
    }

    /// <summary>Each replica reads the allowlist through a two-second cache: the change reaches them within that.</summary>
    private static async Task<string> EventuallyOkAsync(HttpClient client, string alias)
    {
        var (status, body) = await WaitUntilAsync($"the gateway to allow {alias}'s upstream", TimeSpan.FromSeconds(15), async () =>
        {
            using var response = await ChatAsync(client, alias, stream: false);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }, answer => answer.StatusCode == HttpStatusCode.OK, answer => $"{(int)answer.StatusCode}: {answer.Body}");
        using var completion = JsonDocument.Parse(body);
        return completion.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
    }
}
