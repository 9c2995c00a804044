using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests;

[Collection(PlatformCollection.Name)]
public sealed class ToolsTests(PlatformFixture platform)
{
    public static readonly object WeatherTool = new
    {
        description = "Current weather for a city",
        sideEffect = "read_only",
        parameters = new { type = "object", properties = new { city = new { type = "string" } }, required = new[] { "city" } },
    };

    [Fact]
    public async Task AToolIsRegisteredUpdatedListedAndDeleted()
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        using var tools = platform.AppHost.Client("tool", key);

        Assert.Equal(HttpStatusCode.OK, (await tools.PutAsJsonAsync("/v1/tools/http.weather", WeatherTool)).StatusCode);
        using (var listed = JsonDocument.Parse(await tools.GetStringAsync("/v1/tools")))
        {
            Assert.Equal("http.weather", Assert.Single(listed.RootElement.EnumerateArray()).GetProperty("name").GetString());
        }

        using var updated = JsonDocument.Parse(await (await tools.PutAsJsonAsync("/v1/tools/http.weather", WeatherTool)).Content.ReadAsStringAsync());
        Assert.Equal(2, updated.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await tools.DeleteAsync("/v1/tools/http.weather")).StatusCode);
        Assert.Equal("[]", await tools.GetStringAsync("/v1/tools"));
        Assert.Equal(HttpStatusCode.NotFound, (await tools.GetAsync("/v1/tools/http.weather")).StatusCode);
    }

    [Theory]
    [InlineData("builtin.calculator", """{"description":"d","sideEffect":"read_only","parameters":{"type":"object"}}""", "name")]
    [InlineData("http.ok", """{"description":"d","sideEffect":"sometimes","parameters":{"type":"object"}}""", "sideEffect")]
    [InlineData("http.ok", """{"description":"d","sideEffect":"read_only","parameters":{"type":"string"}}""", "parameters")]
    [InlineData("http.ok", """{"description":"d","sideEffect":"read_only","parameters":"not a schema"}""", "parameters")]
    [InlineData("http.ok", """{"sideEffect":"read_only","parameters":{"type":"object"}}""", "description")]
    public async Task AnInvalidToolIsA400NamingTheField(string name, string body, string field)
    {
        using var tools = platform.Admin("tool");

        using var response = await tools.PutAsync($"/v1/tools/{name}", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
    }
}
