using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;

namespace Platform.Tests.Tool;

[Collection(PlatformCollection.Name)]
public sealed class InvocationTests(PlatformFixture platform) : IAsyncLifetime
{
    private CountingServer _server = null!;

    public async Task InitializeAsync() => _server = await CountingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("2 * (3 + 4) ^ 2", 98)]
    [InlineData("-2^2 + 10 % 4", -2)]
    [InlineData("round(sqrt(2) * 1000) / 1000", 1.414)]
    [InlineData("max(1, 7, 3) - min(4, 2)", 5)]
    public async Task TheCalculatorEvaluatesArithmetic(string expression, double expected)
    {
        var invocation = await InvokeAsync(platform.Admin("tool"), "builtin.calculator", new { expression });

        Assert.Equal("succeeded", invocation.GetProperty("status").GetString());
        Assert.Equal(expected, invocation.GetProperty("result").GetProperty("value").GetDouble(), 9);
    }

    [Theory]
    [InlineData("1 / 0")]
    [InlineData("2 +")]
    [InlineData("system('rm -rf /')")]
    [InlineData("((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))")]
    public async Task ABadExpressionFailsWithAReasonNotA500(string expression)
    {
        var invocation = await InvokeAsync(platform.Admin("tool"), "builtin.calculator", new { expression });

        Assert.Equal("failed", invocation.GetProperty("status").GetString());
        Assert.False(string.IsNullOrEmpty(invocation.GetProperty("error").GetString()));
    }

    [Theory]
    [InlineData("""{}""", "/expression", "required")]
    [InlineData("""{"expression":42}""", "/expression", "type")]
    [InlineData("""{"expression":"1","extra":true}""", "/extra", "additionalProperties")]
    [InlineData("""{"expression":""}""", "/expression", "minLength")]
    public async Task BadArgumentsAre400NamingThePointerAndTheRule(string arguments, string pointer, string rule)
    {
        using var client = platform.Admin("tool");

        using var response = await client.PostAsync("/v1/tools/builtin.calculator/invocations", new StringContent(
            $"{{\"idempotencyKey\":\"{Guid.NewGuid()}\",\"arguments\":{arguments}}}", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var errors = problem.RootElement.GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("pointer").GetString() == pointer && e.GetProperty("rule").GetString() == rule);
    }

    [Fact]
    public async Task AHugeArgumentIsRejectedWithout500()
    {
        using var client = platform.Admin("tool");

        using var response = await client.PostAsJsonAsync("/v1/tools/builtin.calculator/invocations",
            new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { expression = new string('1', 200_000) } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task TheSameKeyReturnsTheRecordedResultAndAnotherCallWithItIsAConflict()
    {
        using var client = platform.Admin("tool");
        var key = Guid.NewGuid().ToString();

        var first = await InvokeAsync(client, "builtin.calculator", new { expression = "1 + 1" }, key);
        var again = await InvokeAsync(client, "builtin.calculator", new { expression = "1 + 1" }, key);
        using var different = await client.PostAsJsonAsync("/v1/tools/builtin.calculator/invocations",
            new { idempotencyKey = key, arguments = new { expression = "2 + 2" } });

        Assert.False(first.GetProperty("replayed").GetBoolean());
        Assert.True(again.GetProperty("replayed").GetBoolean());
        Assert.Equal(first.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);
    }

    [Fact]
    public async Task TwentyConcurrentIdenticalInvocationsOfASideEffectRunItOnce()
    {
        var (client, tool) = await CountingToolAsync();
        var key = Guid.NewGuid().ToString();

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => InvokeAsync(client, tool, new { }, key)));

        Assert.Equal(1, _server.Count);
        Assert.All(results, r => Assert.Equal("succeeded", r.GetProperty("status").GetString()));
        Assert.Single(results.Select(r => r.GetProperty("id").GetString()).Distinct());
        Assert.Single(results, r => !r.GetProperty("replayed").GetBoolean());
    }

    [Fact]
    public async Task ASideEffectingCallWhoseOwnerDiedIsReportedUnknownNotRunAgain()
    {
        var (client, tool) = await CountingToolAsync();
        var tenantId = await TenantOfAsync(client);
        var key = Guid.NewGuid().ToString();
        await AbandonedClaimAsync(tenantId, tool, key, "{}", "side_effecting");

        var invocation = await InvokeAsync(client, tool, new { }, key);

        Assert.Equal("unknown", invocation.GetProperty("status").GetString());
        Assert.Equal(0, _server.Count);
    }

    [Fact]
    public async Task AnIdempotentCallWhoseOwnerDiedIsTakenOverAndRun()
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        using var client = platform.AppHost.Client("tool", key);
        var tenantId = await TenantOfAsync(client);
        var idempotencyKey = Guid.NewGuid().ToString();
        await AbandonedClaimAsync(tenantId, "builtin.memory_set", idempotencyKey, """{"key":"k","value":1}""", "idempotent");

        var invocation = await InvokeAsync(client, "builtin.memory_set", new { key = "k", value = 1 }, idempotencyKey);

        Assert.Equal("succeeded", invocation.GetProperty("status").GetString());
    }

    [Fact]
    public async Task MemoryIsPerTenant()
    {
        var (_, alice) = await platform.NewTenantAsync("tools");
        var (_, bob) = await platform.NewTenantAsync("tools");
        using var aliceClient = platform.AppHost.Client("tool", alice);
        using var bobClient = platform.AppHost.Client("tool", bob);

        await InvokeAsync(aliceClient, "builtin.memory_set", new { key = "favourite", value = new { colour = "green" } });
        var aliceRead = await InvokeAsync(aliceClient, "builtin.memory_get", new { key = "favourite" });
        var bobRead = await InvokeAsync(bobClient, "builtin.memory_get", new { key = "favourite" });

        Assert.Equal("green", aliceRead.GetProperty("result").GetProperty("value").GetProperty("colour").GetString());
        Assert.False(bobRead.GetProperty("result").GetProperty("found").GetBoolean());
    }

    [Fact]
    public async Task TheTextAndJsonToolsWork()
    {
        using var client = platform.Admin("tool");

        var query = await InvokeAsync(client, "builtin.json_query", new { document = new { items = new[] { new { name = "a" }, new { name = "b" } } }, pointer = "/items/1/name" });
        var regex = await InvokeAsync(client, "builtin.regex_extract", new { text = "order 12 and order 345", pattern = @"order (?<id>\d+)" });
        var template = await InvokeAsync(client, "builtin.template_render", new { template = "Hi {{user.name}}, you have {{count}} items", values = new { user = new { name = "Ada" }, count = 3 } });
        var time = await InvokeAsync(client, "builtin.current_time", new { timeZone = "Europe/Paris" });

        Assert.Equal("b", query.GetProperty("result").GetProperty("value").GetString());
        Assert.Equal(["12", "345"], regex.GetProperty("result").GetProperty("matches").EnumerateArray().Select(m => m.GetProperty("groups").GetProperty("id").GetString()));
        Assert.Equal("Hi Ada, you have 3 items", template.GetProperty("result").GetProperty("text").GetString());
        Assert.Equal("Europe/Paris", time.GetProperty("result").GetProperty("timeZone").GetString());
    }

    [Theory]
    [InlineData("http://127.0.0.1:{port}/hello")]
    [InlineData("http://[::1]:{port}/hello")]
    [InlineData("http://localhost:{port}/hello")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/")]
    [InlineData("http://0.0.0.0:{port}/hello")]
    [InlineData("file:///etc/passwd")]
    public async Task HttpRequestsToPrivateAddressesAreBlocked(string url)
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        using var client = platform.AppHost.Client("tool", key);

        var invocation = await InvokeAsync(client, "builtin.http_request", new { method = "GET", url = url.Replace("{port}", _server.Url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)) });

        Assert.Equal("failed", invocation.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AnAllowListedHostIsReachableButARedirectFromItToLoopbackIsBlocked()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("tool", key);
        await platform.AppHost.GrantPrivateAsync(key, _server.Url.ToString());

        var direct = await InvokeAsync(client, "builtin.http_request", new { method = "GET", url = $"{_server.Url}hello" });
        var redirected = await InvokeAsync(client, "builtin.http_request",
            new { method = "GET", url = $"{_server.Url}redirect?to=http://localhost:{_server.Url.Port}/hello" });

        Assert.Equal("succeeded", direct.GetProperty("status").GetString());
        Assert.Equal("hello", direct.GetProperty("result").GetProperty("body").GetString());
        Assert.Equal("failed", redirected.GetProperty("status").GetString());
        Assert.Contains("localhost", redirected.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOpenApiDocumentBecomesOneToolPerOperation()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("tool", key);
        await platform.AppHost.GrantPrivateAsync(key, _server.Url.ToString());
        var document = JsonNode.Parse($$"""
            {
              "openapi": "3.0.3",
              "info": { "title": "Counter", "version": "1" },
              "servers": [ { "url": "{{_server.Url.ToString().TrimEnd('/')}}" } ],
              "paths": {
                "/hello": { "get": { "operationId": "sayHello", "summary": "Says hello",
                  "parameters": [ { "name": "lang", "in": "query", "schema": { "$ref": "#/components/schemas/Lang" } } ] } },
                "/count": { "post": { "operationId": "Increment Counter", "summary": "Counts a call" } }
              },
              "components": { "schemas": { "Lang": { "type": "string", "enum": ["en", "fr"] } } }
            }
            """);

        using var response = await client.PostAsJsonAsync("/v1/tools/import/openapi", new { document, prefix = "counter_" });
        var hello = await InvokeAsync(client, "http.counter_sayhello", new { lang = "en" });
        var counted = await InvokeAsync(client, "http.counter_increment_counter", new { });
        using var invalid = await client.PostAsJsonAsync("/v1/tools/http.counter_sayhello/invocations",
            new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { lang = "de" } });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using (var imported = JsonDocument.Parse(await response.Content.ReadAsStringAsync()))
        {
            Assert.Equal(["http.counter_sayhello", "http.counter_increment_counter"],
                imported.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
            Assert.Equal("side_effecting", imported.RootElement.GetProperty("tools")[1].GetProperty("sideEffect").GetString());
        }

        Assert.Equal("hello", hello.GetProperty("result").GetProperty("body").GetString());
        Assert.Equal(1, counted.GetProperty("result").GetProperty("body").GetProperty("count").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
    }

    [Fact]
    public async Task HeaderSecretsAreFilledInAtCallTimeAndNeverShown()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("tool", key);
        await platform.AppHost.GrantPrivateAsync(key, _server.Url.ToString());
        (await client.PutAsJsonAsync("/v1/tool-settings/secrets/upstream_token", new { value = "s3cr3t-value" })).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/v1/tools/http.whoami", new
        {
            description = "Echoes the Authorization header",
            sideEffect = "read_only",
            parameters = new { type = "object" },
            http = new { method = "GET", url = $"{_server.Url}whoami", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer {{secret:upstream_token}}" } },
        })).EnsureSuccessStatusCode();

        var invocation = await InvokeAsync(client, "http.whoami", new { });

        Assert.Equal("Bearer s3cr3t-value", invocation.GetProperty("result").GetProperty("body").GetString());
        Assert.DoesNotContain("s3cr3t", await client.GetStringAsync("/v1/tools/http.whoami"), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", await client.GetStringAsync("/v1/tool-settings/secrets"), StringComparison.Ordinal);
    }

    private async Task<(HttpClient Client, string Tool)> CountingToolAsync()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        var client = platform.AppHost.Client("tool", key);
        await platform.AppHost.GrantPrivateAsync(key, _server.Url.ToString());
        (await client.PutAsJsonAsync("/v1/tools/http.count", new
        {
            description = "Counts a call",
            sideEffect = "side_effecting",
            parameters = new { type = "object" },
            http = new { method = "POST", url = $"{_server.Url}count" },
        })).EnsureSuccessStatusCode();
        return (client, "http.count");
    }

    private async Task<string> TenantOfAsync(HttpClient toolClient)
    {
        using var orchestrator = platform.AppHost.Client("orchestrator");
        orchestrator.DefaultRequestHeaders.Authorization = toolClient.DefaultRequestHeaders.Authorization;
        using var me = JsonDocument.Parse(await orchestrator.GetStringAsync("/v1/me"));
        return me.RootElement.GetProperty("tenantId").GetString()!;
    }

    /// <summary>What a tool service that died mid-call leaves behind: a running claim whose lease has run out.</summary>
    private async Task AbandonedClaimAsync(string tenantId, string tool, string key, string arguments, string sideEffect)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("tooldb"));
        await connection.ExecuteAsync("""
            INSERT INTO tool_invocations (id, tenant_id, key_id, tool, idempotency_key, arguments_hash, arguments, side_effect, status, lease_until)
            VALUES (@id, @tenantId, 'dead-owner', @tool, @key, @hash, @arguments::jsonb, @sideEffect, 'running', now() - interval '1 minute')
            """, new
        {
            id = Guid.CreateVersion7(), tenantId, tool, key, arguments, sideEffect,
            hash = Platform.ServiceDefaults.Json.CanonicalJson.Hash(System.Text.Json.Nodes.JsonNode.Parse(arguments)),
        });
    }

    internal static async Task<JsonElement> InvokeAsync(HttpClient client, string tool, object arguments, string? idempotencyKey = null)
    {
        using var response = await client.PostAsJsonAsync($"/v1/tools/{tool}/invocations",
            new { idempotencyKey = idempotencyKey ?? Guid.NewGuid().ToString(), arguments, runId = "run-1", stepId = "step-1" });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}
