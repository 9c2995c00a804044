using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests.Tool;

[Collection(PlatformCollection.Name)]
public sealed class ToolsTests(PlatformFixture platform)
{
    public static readonly object WeatherTool = new
    {
        description = "Current weather for a city",
        sideEffect = "read_only",
        parameters = new { type = "object", properties = new { city = new { type = "string" } }, required = new[] { "city" } },
        http = new { method = "GET", url = "https://weather.example.com/v1/{city}", headers = new Dictionary<string, string> { ["Authorization"] = "Bearer secret" } },
    };

    [Fact]
    public async Task AToolIsRegisteredUpdatedListedAndDeleted()
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        using var tools = platform.AppHost.Client("tool", key);

        Assert.Equal(HttpStatusCode.OK, (await tools.PutAsJsonAsync("/v1/tools/http.weather", WeatherTool)).StatusCode);
        using (var listed = JsonDocument.Parse(await tools.GetStringAsync("/v1/tools")))
        {
            var names = listed.RootElement.EnumerateArray().Select(t => t.GetProperty("name").GetString()).ToList();
            Assert.Contains("http.weather", names);
            Assert.Contains("builtin.calculator", names);
            var weather = listed.RootElement.EnumerateArray().Single(t => t.GetProperty("name").GetString() == "http.weather");
            Assert.DoesNotContain("secret", weather.GetRawText(), StringComparison.Ordinal);
        }

        using var updated = JsonDocument.Parse(await (await tools.PutAsJsonAsync("/v1/tools/http.weather", WeatherTool)).Content.ReadAsStringAsync());
        Assert.Equal(2, updated.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await tools.DeleteAsync("/v1/tools/http.weather")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await tools.GetAsync("/v1/tools/http.weather")).StatusCode);
    }

    [Theory]
    [InlineData("/v1/tools/builtin.calculator/policy", """{"approval":{"always":false,"when":[{"pattern":"x"}]}}""")]
    [InlineData("/v1/tools/builtin.calculator/policy", """{"approval":{"always":false,"when":[null]}}""")]
    [InlineData("/v1/tools/builtin.calculator/policy", """{"approval":{"always":false,"when":[{"pointer":"/a","pattern":"("}]}}""")]
    [InlineData("/v1/tools/import/openapi", """{"document":{"openapi":3}}""")]
    [InlineData("/v1/tools/import/openapi", """{"document":{"openapi":"3.0.0","servers":[{"url":"https://x.example"}],"paths":{"/a":{"get":{"operationId":7}}}}}""")]
    [InlineData("/v1/tools/import/openapi", """{"document":"not an object"}""")]
    public async Task MalformedPoliciesAndDocumentsAre400(string path, string body)
    {
        using var tools = platform.Admin("tool");

        using var response = await tools.SendAsync(new HttpRequestMessage(path.EndsWith("policy", StringComparison.Ordinal) ? HttpMethod.Put : HttpMethod.Post, path)
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task TheOpenAiListingGivesFunctionToolsForTheModelGateway()
    {
        using var tools = platform.Admin("tool");

        using var listed = JsonDocument.Parse(await tools.GetStringAsync("/v1/tools?format=openai"));

        var calculator = listed.RootElement.EnumerateArray().Single(t => t.GetProperty("function").GetProperty("name").GetString() == "builtin__calculator");
        Assert.Equal("function", calculator.GetProperty("type").GetString());
        Assert.Equal("object", calculator.GetProperty("function").GetProperty("parameters").GetProperty("type").GetString());
    }

    private const string Http = "\"http\":{\"method\":\"GET\",\"url\":\"https://example.com/x\"}";

    [Theory]
    [InlineData("builtin.calculator", "{\"description\":\"d\",\"sideEffect\":\"read_only\",\"parameters\":{\"type\":\"object\"}," + Http + "}", "name")]
    [InlineData("http.ok", "{\"description\":\"d\",\"sideEffect\":\"sometimes\",\"parameters\":{\"type\":\"object\"}," + Http + "}", "sideEffect")]
    [InlineData("http.ok", "{\"description\":\"d\",\"sideEffect\":\"read_only\",\"parameters\":{\"type\":\"string\"}," + Http + "}", "parameters")]
    [InlineData("http.ok", "{\"description\":\"d\",\"sideEffect\":\"read_only\",\"parameters\":\"not a schema\"," + Http + "}", "parameters")]
    [InlineData("http.ok", "{\"sideEffect\":\"read_only\",\"parameters\":{\"type\":\"object\"}," + Http + "}", "description")]
    [InlineData("http.ok", """{"description":"d","sideEffect":"read_only","parameters":{"type":"object"},"http":{"method":"GET","url":"file:///etc/passwd"}}""", "http.url")]
    [InlineData("http.ok", """{"description":"d","sideEffect":"read_only","parameters":{"type":"object"}}""", "http")]
    public async Task AnInvalidToolIsA400NamingTheField(string name, string body, string field)
    {
        using var tools = platform.Admin("tool");

        using var response = await tools.PutAsync($"/v1/tools/{name}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
    }
}
