using System.Net;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.Tool;

/// <summary>
/// Hostile input on each tool-service endpoint that writes or runs something: never a 5xx, and every refusal is
/// problem+json. Requests go with the platform admin's key, which may do everything here.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ToolHostileInputTests(PlatformFixture platform)
{
    private const string Tool = "\"description\":\"d\",\"sideEffect\":\"read_only\",\"parameters\":{\"type\":\"object\"}";

    public static TheoryData<string, string, string> Requests() => new()
    {
        { "PUT", "/v1/tools/http.hostile", "{" + Tool + ",\"http\":{\"method\":\"GET\",\"url\":\"https://example.com/x\",\"headers\":[\"a\"]}}" },
        { "PUT", "/v1/tools/http.hostile", "{" + Tool + ",\"http\":{\"method\":\"GET\",\"url\":\"" + new string('a', 70_000) + "\"}}" },
        { "PUT", "/v1/tools/http.hostile", "{" + Tool + ",\"http\":{\"method\":\"GET\",\"url\":\"https://example.com/x\"},\"timeoutMs\":1e400}" },
        { "PUT", "/v1/tools/http.hostile", "{\"description\":\"d\",\"sideEffect\":\"read_only\",\"parameters\":" + Nested(60) + ",\"http\":{\"method\":\"GET\",\"url\":\"https://example.com/x\"}}" },
        { "PUT", "/v1/tools/http.hostile", "{\"description\":\"'; DROP TABLE tools; --\",\"sideEffect\":\"read_only\",\"parameters\":{\"type\":\"object\",\"$schema\":\"http://127.0.0.1/\"},\"http\":{\"method\":\"GET\",\"url\":\"https://example.com/x\"}}" },
        { "PUT", "/v1/tools/..%2F..%2Fetc%2Fpasswd", "{" + Tool + ",\"http\":{\"method\":\"GET\",\"url\":\"https://example.com/x\"}}" },
        { "PUT", "/v1/tools/builtin.calculator/policy", "{\"approval\":{\"always\":false,\"when\":[{\"pointer\":\"/a\",\"pattern\":\"" + new string('(', 5000) + "\"}]}}" },
        { "PUT", "/v1/tools/builtin.calculator/policy", "{\"approval\":{\"always\":\"yes\"}}" },
        { "PUT", "/v1/tools/builtin.calculator/policy", "{\"approval\":{\"always\":true,\"expiresAfter\":\"forever\"}}" },
        { "PUT", "/v1/tools/builtin.calculator/policy", "{\"approval\":{\"always\":false,\"when\":[{\"pointer\":\"/a\",\"pattern\":\"a{1000000}\"}]}}" },
        { "POST", "/v1/tools/import/openapi", "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":{\"url\":\"https://x.example\"},\"paths\":{}}}" },
        { "POST", "/v1/tools/import/openapi", "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":[{\"url\":\"https://x.example\"}],\"paths\":[1,2]}}" },
        { "POST", "/v1/tools/import/openapi", "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":[{\"url\":\"file:///etc\"}],\"paths\":{\"/a\":{\"get\":{}}}}}" },
        { "POST", "/v1/tools/import/openapi", "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":[{\"url\":\"https://x.example\"}],\"paths\":{\"evil.example/a\":{\"get\":{}}}}}" },
        { "POST", "/v1/tools/import/openapi", "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":[{\"url\":\"https://x.example\"}],\"paths\":{\"/a\":{\"get\":{\"summary\":7}}}}}" },
        { "POST", "/v1/tools/import/openapi", "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":[{\"url\":\"https://x.example\"}],\"paths\":{\"/a\":{\"get\":{\"parameters\":[{\"name\":\"q\",\"in\":\"query\",\"schema\":{\"$ref\":\"http://127.0.0.1/x.json\"}}]}}}}}" },
        { "POST", "/v1/tools/import/openapi", ReferenceBomb() },
        { "POST", "/v1/tools/builtin.calculator/invocations", "{\"idempotencyKey\":\"" + new string('k', 201) + "\",\"arguments\":{\"expression\":\"1\"}}" },
        { "POST", "/v1/tools/builtin.calculator/invocations", "{\"idempotencyKey\":\"k\",\"runId\":\"" + new string('r', 300) + "\",\"arguments\":{\"expression\":\"1\"}}" },
        { "POST", "/v1/tools/builtin.calculator/invocations", "{\"idempotencyKey\":\"k2\",\"arguments\":null}" },
        { "POST", "/v1/tools/builtin.memory_set/invocations", "{\"idempotencyKey\":\"" + Guid.NewGuid() + "\",\"arguments\":{\"key\":\"k\",\"value\":1e131072}}" },
        { "POST", "/v1/tools/builtin.http_request/invocations", "{\"idempotencyKey\":\"" + Guid.NewGuid() + "\",\"arguments\":{\"method\":\"GET\",\"url\":\"http://169.254.169.254/latest/meta-data/\",\"headers\":{\"X\":\"a\\r\\nb\"}}}" },
        { "POST", "/v1/tools/builtin.current_time/invocations", "{\"idempotencyKey\":\"" + Guid.NewGuid() + "\",\"arguments\":{\"timeZone\":\"../../../../etc/passwd\"}}" },
        { "POST", "/v1/tools/no.such.tool/invocations", "{\"idempotencyKey\":\"k\",\"arguments\":{}}" },
        { "POST", "/v1/approvals/00000000-0000-0000-0000-000000000000/approve", "{\"reason\":\"" + new string('r', 100_000) + "\"}" },
        { "POST", "/v1/approvals/00000000-0000-0000-0000-000000000000/deny", "{\"reason\":42}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"ftp\"}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"stdio\",\"command\":\"\"}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"stdio\",\"command\":\"/nonexistent/binary\",\"args\":[\"; rm -rf /\"]}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"stdio\",\"command\":\"/bin/false\"}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"stdio\",\"command\":\"/bin/echo\",\"args\":[null]}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"http\",\"url\":\"file:///etc/passwd\"}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"http\",\"url\":\"http://169.254.169.254/latest/meta-data/\"}" },
        { "PUT", "/v1/mcp-servers/hostile", "{\"transport\":\"http\",\"url\":\"http://[::1]:1/mcp\"}" },
        { "PUT", "/v1/mcp-servers/HOSTILE..", "{\"transport\":\"stdio\",\"command\":\"/bin/true\"}" },
        { "POST", "/v1/mcp-servers/nonexistent/refresh", "" },
        { "PUT", "/v1/tool-settings/secrets/token", "{\"value\":\"" + new string('v', 20_000) + "\"}" },
        { "PUT", "/v1/tool-settings/secrets/token", "{\"value\":\"caf\u00e9\"}" },
        { "PUT", "/v1/tool-settings/secrets/" + new string('n', 65), "{\"value\":\"v\"}" },
        { "PUT", "/v1/tool-settings/http-allowlist", "{\"hosts\":[null]}" },
        { "PUT", "/v1/tool-settings/http-allowlist", "{\"hosts\":[\"example.com:99999\",\"a b\",\"" + new string('h', 300) + "\"]}" },
        { "PUT", "/v1/tool-settings/http-allowlist", "{\"hosts\":\"example.com\"}" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task HostileInputIsNeverA5xxAndEveryRefusalIsProblemJson(string method, string path, string body)
    {
        using var client = platform.Admin("tool");

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = body.Length == 0 ? null : new StringContent(body, Encoding.UTF8, "application/json"),
        });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode < 500, $"{(int)response.StatusCode}: {text}");
        if ((int)response.StatusCode >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }

        if (path.StartsWith("/v1/mcp-servers/hostile", StringComparison.Ordinal))
        {
            await client.DeleteAsync("/v1/mcp-servers/hostile");
        }
    }

    [Fact]
    public async Task AnMcpServerOnAMetadataAddressIsStoredAsFailedWithTheRefusal()
    {
        using var client = platform.Admin("tool");

        using var response = await client.PutAsync("/v1/mcp-servers/metadata",
            new StringContent("{\"transport\":\"http\",\"url\":\"http://169.254.169.254/latest/meta-data/\"}", Encoding.UTF8, "application/json"));
        using var server = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        await client.DeleteAsync("/v1/mcp-servers/metadata");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("failed", server.RootElement.GetProperty("state").GetProperty("status").GetString());
        Assert.Contains("169.254.169.254", server.RootElement.GetProperty("state").GetProperty("lastError").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOpenApiDocumentBeyondTheDefaultBodyLimitIsImported()
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        using var client = platform.AppHost.Client("tool", key);
        var paths = string.Join(",", Enumerable.Range(0, 300).Select(i => $"\"/items{i}\":{{\"get\":{{\"operationId\":\"op{i}\",\"summary\":\"{new string('s', 10_000)}\"}}}}"));

        using var response = await client.PostAsync("/v1/tools/import/openapi", new StringContent(
            "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":[{\"url\":\"https://x.example\"}],\"paths\":{" + paths + "}}}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var imported = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(300, imported.RootElement.GetProperty("tools").GetArrayLength());
    }

    [Fact]
    public async Task AnOpenApiDocumentBeyondItsLimitIsA413ProblemJson()
    {
        using var client = platform.Admin("tool");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/tools/import/openapi")
        {
            Content = new StringContent("{\"document\":{\"openapi\":\"3.0.0\",\"x\":\"" + new string('x', 17 * 1024 * 1024) + "\"}}", Encoding.UTF8, "application/json"),
        };
        request.Headers.ExpectContinue = true;

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    private static string Nested(int depth) => string.Concat(Enumerable.Repeat("{\"type\":\"object\",\"properties\":{\"a\":", depth)) + "{}" + new string('}', depth * 2);

    /// <summary>Schemas whose references each fan out ten ways, six levels deep: a million nodes once inlined.</summary>
    private static string ReferenceBomb()
    {
        var schemas = string.Join(",", Enumerable.Range(0, 6).Select(i =>
            $"\"s{i}\":{{\"anyOf\":[{string.Join(",", Enumerable.Repeat($"{{\"$ref\":\"#/components/schemas/s{i + 1}\"}}", 10))}]}}"));
        return "{\"document\":{\"openapi\":\"3.0.0\",\"servers\":[{\"url\":\"https://x.example\"}],\"paths\":{\"/a\":{\"get\":{\"parameters\":[{\"name\":\"q\",\"in\":\"query\","
            + "\"schema\":{\"$ref\":\"#/components/schemas/s0\"}}]}}},\"components\":{\"schemas\":{" + schemas + ",\"s6\":{\"type\":\"string\"}}}}}";
    }
}
