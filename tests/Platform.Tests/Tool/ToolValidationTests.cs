using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tests.Tool;

/// <summary>
/// A tool is checked when it is written, so nothing stored makes a later read, list or call fail; and values stored
/// before these checks (written here straight into tooldb) fail their call cleanly rather than the service.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ToolValidationTests(PlatformFixture platform)
{
    private const string Object = "\"type\":\"object\"";

    [Theory]
    [InlineData("{" + Object + ",\"properties\":{\"a\":{\"type\":\"string\",\"pattern\":\"((\"}}}", null, "parameters")]
    [InlineData("{" + Object + ",\"properties\":{\"a\":{\"$ref\":\"#/definitions/missing\"}}}", null, "parameters")]
    [InlineData("{" + Object + ",\"properties\":{\"a\":{\"$ref\":\"file:///etc/passwd\"}}}", null, "parameters")]
    [InlineData("{" + Object + ",\"not\":{\"$ref\":\"#\"}}", null, "parameters")]
    [InlineData("{" + Object + ",\"properties\":{\"a\":{\"type\":\"number\",\"multipleOf\":0}}}", null, "parameters")]
    [InlineData("{" + Object + ",\"properties\":{\"a\":5}}", null, "parameters")]
    [InlineData("{" + Object + "}", "{\"type\":\"object\",\"minProperties\":1e300}", "resultSchema")]
    [InlineData("{" + Object + ",\"properties\":{\"a\":{\"type\":\"number\",\"maximum\":1e131072}}}", null, "parameters")]
    public async Task ASchemaThatCannotBeUsedIsRefusedNamingTheFieldAndNothingIsStored(string parameters, string? resultSchema, string field)
    {
        var (_, client) = await TenantAsync();

        using var response = await PutRawAsync(client, "http.hostile", $$$"""
            {"description":"d","sideEffect":"read_only","parameters":{{{parameters}}},"resultSchema":{{{resultSchema ?? "null"}}},
             "http":{"method":"GET","url":"https://example.com/x"}}
            """);

        await AssertRefusedAsync(response, field);
        await AssertStillServesAsync(client, "http.hostile");
    }

    [Theory]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"http://example.com:{port}/x\"}", 1000, "http.url")]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"{scheme}://example.com/x\"}", 1000, "http.url")]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"https://example.com/x\",\"headers\":{\"X-Key\":\"a\\r\\nInjected: yes\"}}", 1000, "http.headers")]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"https://example.com/x\",\"headers\":{\"Content-Type\":\"text/plain\"}}", 1000, "http.headers")]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"https://example.com/x\",\"headers\":{\"X-Key\":null}}", 1000, "http.headers")]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"https://example.com/x\",\"query\":[null]}", 1000, "http.query")]
    [InlineData("http.hostile", "{\"method\":\"TRACE\",\"url\":\"https://example.com/x\"}", 1000, "http.method")]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"https://example.com/x\"}", -5, "timeoutMs")]
    [InlineData("http.hostile", "{\"method\":\"GET\",\"url\":\"https://example.com/x\"}", 2_000_000_000, "timeoutMs")]
    [InlineData("http.hostile_name_that_is_far_too_long_to_be_stored_as_a_tool_name_by_any_tenant", "{\"method\":\"GET\",\"url\":\"https://example.com/x\"}", 1000, "name")]
    public async Task AnHttpBindingOrLimitThatCouldFailLaterIsRefusedNamingTheField(string name, string http, int timeoutMs, string field)
    {
        var (_, client) = await TenantAsync();

        using var response = await PutRawAsync(client, name, $$$"""
            {"description":"d","sideEffect":"read_only","parameters":{"type":"object"},"http":{{{http}}},"timeoutMs":{{{timeoutMs}}}}
            """);

        await AssertRefusedAsync(response, field);
        await AssertStillServesAsync(client, name);
    }

    [Fact]
    public async Task AStoredSchemaThatWouldRecurseForeverIsRefusedAtInvocationAndTheServiceLivesOn()
    {
        var (tenantId, client) = await TenantAsync();
        await StoreToolAsync(client, "http.recursive");
        await UpdateToolAsync(tenantId, "http.recursive", "parameters = '{\"type\":\"object\",\"not\":{\"$ref\":\"#\"}}'::jsonb");

        using var response = await InvokeRawAsync(client, "http.recursive", "{}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("parameters", problem.RootElement.GetProperty("field").GetString());
        Assert.Equal("succeeded", (await InvocationTests.InvokeAsync(client, "builtin.calculator", new { expression = "1 + 1" })).GetProperty("status").GetString());
        await AssertStillServesAsync(client, "http.missing");
    }

    [Fact]
    public async Task AStoredUrlTemplateThatYieldsNoUrlFailsTheCallNotTheService()
    {
        var (tenantId, client) = await TenantAsync();
        await StoreToolAsync(client, "http.port");
        await UpdateToolAsync(tenantId, "http.port", """http = '{"method":"GET","url":"http://example.com:{port}/x"}'::jsonb""");

        var invocation = await InvocationTests.InvokeAsync(client, "http.port", new { port = "not-a-port" });

        Assert.Equal("failed", invocation.GetProperty("status").GetString());
        Assert.Contains("not an absolute http(s) URL", invocation.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASchemaPatternThatBacktracksCatastrophicallyIsAQuick400()
    {
        var (_, client) = await TenantAsync();
        await StoreToolAsync(client, "http.backtracking", """{"type":"object","properties":{"word":{"type":"string","pattern":"^(a+)+$"}}}""");

        var clock = Stopwatch.StartNew();
        using var response = await InvokeRawAsync(client, "http.backtracking", $"{{\"word\":\"{new string('a', 40)}!\"}}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"rule\":\"pattern\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("1e400", HttpStatusCode.BadRequest)]
    [InlineData("-1e-400", HttpStatusCode.BadRequest)]
    [InlineData("123456789012345678901234567890123456789", HttpStatusCode.OK)]
    public async Task AnArgumentNumberIsStoredOrRefusedNeverA500(string number, HttpStatusCode expected)
    {
        var (_, client) = await TenantAsync();

        using var response = await InvokeRawAsync(client, "builtin.memory_set", $"{{\"key\":\"n\",\"value\":{number}}}");

        Assert.Equal(expected, response.StatusCode);
        if (expected == HttpStatusCode.BadRequest)
        {
            Assert.Contains("/value", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(200, "succeeded")]
    [InlineData(500, "failed")]
    public async Task AnEndpointAnsweringANulCharacterIsRecordedCleanedNotA500(int status, string outcome)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("tool", key);
        await using var server = await CountingServer.StartAsync();
        await platform.AppHost.GrantPrivateAsync(key, server.Url.ToString());
        (await client.PutAsJsonAsync("/v1/tools/http.nul", new
        {
            description = "Answers a text holding a NUL character",
            sideEffect = "read_only",
            parameters = new { type = "object", properties = new { status = new { type = "integer" } } },
            http = new { method = "GET", url = $"{server.Url}nul" },
        })).EnsureSuccessStatusCode();

        var invocation = await InvocationTests.InvokeAsync(client, "http.nul", new { status });

        Assert.Equal(outcome, invocation.GetProperty("status").GetString());
        var text = outcome == "succeeded" ? invocation.GetProperty("result").GetProperty("body").GetString() : invocation.GetProperty("error").GetString();
        Assert.Contains("before\uFFFDafter", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEndpointAnsweringANumberBeyondWhatIsStoredIsRecordedWithItAsText()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("tool", key);
        await using var server = await CountingServer.StartAsync();
        await platform.AppHost.GrantPrivateAsync(key, server.Url.ToString());
        (await client.PutAsJsonAsync("/v1/tools/http.overflow", new
        {
            description = "Answers a number beyond PostgreSQL's numeric",
            sideEffect = "read_only",
            parameters = new { type = "object" },
            http = new { method = "GET", url = $"{server.Url}overflow" },
        })).EnsureSuccessStatusCode();

        var invocation = await InvocationTests.InvokeAsync(client, "http.overflow", new { });

        Assert.Equal("succeeded", invocation.GetProperty("status").GetString());
        Assert.Equal("1e131072", invocation.GetProperty("result").GetProperty("body").GetProperty("n").GetString());
    }

    private async Task<(string TenantId, HttpClient Client)> TenantAsync()
    {
        var (tenantId, key) = await platform.NewTenantAsync("tools");
        return (tenantId, platform.AppHost.Client("tool", key));
    }

    private static async Task StoreToolAsync(HttpClient client, string name, string parameters = """{"type":"object"}""")
    {
        using var response = await PutRawAsync(client, name, $$$"""
            {"description":"d","sideEffect":"read_only","parameters":{{{parameters}}},"http":{"method":"GET","url":"https://example.com/x"}}
            """);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>What a row written before validation existed may hold, written past the API.</summary>
    private async Task UpdateToolAsync(string tenantId, string name, string set)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("tooldb"));
        Assert.Equal(1, await connection.ExecuteAsync($"UPDATE tools SET {set} WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }));
    }

    private static Task<HttpResponseMessage> PutRawAsync(HttpClient client, string name, string body) =>
        client.PutAsync($"/v1/tools/{name}", new StringContent(body, Encoding.UTF8, "application/json"));

    internal static Task<HttpResponseMessage> InvokeRawAsync(HttpClient client, string tool, string arguments) =>
        client.PostAsync($"/v1/tools/{tool}/invocations",
            new StringContent($"{{\"idempotencyKey\":\"{Guid.NewGuid()}\",\"arguments\":{arguments}}}", Encoding.UTF8, "application/json"));

    internal static async Task AssertRefusedAsync(HttpResponseMessage response, string? field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            using var problem = JsonDocument.Parse(body);
            Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), body);
        }
    }

    /// <summary>Nothing was stored under the name, and reading and listing still work.</summary>
    private static async Task AssertStillServesAsync(HttpClient client, string name)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/tools/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/tools")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/tools?format=openai")).StatusCode);
    }
}
