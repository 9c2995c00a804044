using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.CrossService;

/// <summary>
/// A rule several services apply is applied by each the same way, from its one home in ServiceDefaults: the
/// Idempotency-Key header, the paging limit, the URL a tenant gives the platform to call.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class CrossServiceRulesTests(PlatformFixture platform)
{
    public static TheoryData<string, string> KeyedWrites => new()
    {
        { "orchestrator", "/v1/runs" },
        { "planning", "/v1/plans" },
        { "model", "/v1/chat/completions" },
    };

    [Theory]
    [MemberData(nameof(KeyedWrites))]
    public async Task ARepeatedIdempotencyKeyHeaderIsRefusedByEveryService(string service, string path)
    {
        var (status, body) = await SendRawAsync(service, "POST", path, ["Idempotency-Key: first", "Idempotency-Key: second"], "{}");

        Assert.True(status == 400, $"{status}: {body}");
        AssertNamesTheHeader(service, body);
    }

    [Theory]
    [MemberData(nameof(KeyedWrites))]
    public async Task AKeyOverTwoHundredCharactersOrWithASpaceIsRefusedByEveryService(string service, string path)
    {
        foreach (var key in new[] { new string('k', 201), "order 42" })
        {
            var (status, body) = await SendRawAsync(service, "POST", path, [$"Idempotency-Key: {key}"], "{}");

            Assert.True(status == 400, $"{key.Length} characters: {status}: {body}");
            AssertNamesTheHeader(service, body);
        }
    }

    [Fact]
    public async Task AToolInvocationsKeyFollowsTheSameRule()
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        using var tool = platform.AppHost.Client("tool", key);

        using var response = await tool.PostAsJsonAsync("/v1/tools/builtin.calculator/invocations",
            new { idempotencyKey = "order 42", arguments = new { expression = "1 + 1" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("idempotencyKey", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("field").GetString());
    }

    public static TheoryData<string, string> Lists => new()
    {
        { "orchestrator", "/v1/runs" },
        { "orchestrator", "/v1/agents" },
        { "planning", "/v1/plans" },
        { "tool", "/v1/invocations" },
        { "tool", "/v1/approvals" },
    };

    [Theory]
    [MemberData(nameof(Lists))]
    public async Task EveryListTakesUpToTwoHundredAndRefusesMoreTheSameWay(string service, string path)
    {
        var (_, key) = await platform.NewTenantAsync("runs", "agents", "plans", "tools");
        using var client = platform.AppHost.Client(service, key);

        using var most = await client.GetAsync($"{path}?limit=200");
        using var over = await client.GetAsync($"{path}?limit=201");

        Assert.Equal(HttpStatusCode.OK, most.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
        Assert.Equal("application/problem+json", over.Content.Headers.ContentType?.MediaType);
        var errors = (await over.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal("The limit is 1 to 200.", errors.GetProperty("limit")[0].GetString());
    }

    public static TheoryData<string> RefusedUrls => new()
    {
        "https://example.com/" + new string('p', 2048),
        "https://user:secret@example.com/hook",
        "ftp://example.com/hook",
    };

    [Theory]
    [MemberData(nameof(RefusedUrls))]
    public async Task AUrlIsRefusedByTheSameRuleWhereverATenantGivesOne(string url)
    {
        var (_, key) = await platform.NewTenantAsync("admin", "runs", "agents", "tools", "models");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        // MCP servers are registered by platform admins only.
        using var tool = platform.Admin("tool");
        using var model = platform.AppHost.Client("model", key);

        await AssertRefusedAsync(await orchestrator.PostAsJsonAsync("/v1/agents", new { name = "hooked", model = "simulator", webhookUrl = url }), "webhookUrl");
        await AssertRefusedAsync(await orchestrator.PostAsJsonAsync("/v1/runs", new { agent = "any", goal = "g", webhookUrl = url }), "webhookUrl");
        await AssertRefusedAsync(await tool.PutAsJsonAsync("/v1/mcp-servers/hooked", new { transport = "http", url }), "url");
        await AssertRefusedAsync(await model.PutAsJsonAsync("/v1/catalog/hooked", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "openai", baseUrl = url, model = "gpt-4o" } },
        }), "deployments[0].baseUrl");
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field)
    {
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}: {(int)response.StatusCode}: {body}");
            using var problem = JsonDocument.Parse(body);
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), body);
        }
    }

    /// <summary>The gateway answers in OpenAI's shape, naming the header as <c>param</c>; the others in problem+json's <c>errors</c>.</summary>
    private static void AssertNamesTheHeader(string service, string body)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        if (service == "model")
        {
            Assert.Equal("Idempotency-Key", root.GetProperty("error").GetProperty("param").GetString());
            Assert.Equal("invalid_idempotency_key", root.GetProperty("error").GetProperty("code").GetString());
        }
        else
        {
            Assert.Equal("One Idempotency-Key header of 1 to 200 printable ASCII characters without spaces.",
                root.GetProperty("errors").GetProperty("Idempotency-Key")[0].GetString());
        }
    }

    private Task<(int Status, string Body)> SendRawAsync(string service, string method, string path, string[] headers, string body) =>
        RawHttp.SendAsync(platform.AppHost.Url(service), platform.AppHost.AdminApiKey, method, path,
            [.. headers, "Content-Type: application/json", $"Content-Length: {Encoding.UTF8.GetByteCount(body)}"], "\r\n" + body);
}
