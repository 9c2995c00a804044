using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Tests.CrossService;

namespace Platform.Tests.Tool;

/// <summary>GET /v1/invocations: a tenant's latest tool calls, newest first, and only its own.</summary>
[Collection(PlatformCollection.Name)]
public sealed class InvocationLogTests(PlatformFixture platform)
{
    [Fact]
    public async Task TheLogListsTheTenantsLatestCallsNewestFirstAndNoOneElses()
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        var (_, otherKey) = await platform.NewTenantAsync("tools");
        using var tool = platform.AppHost.Client("tool", key);
        using var other = platform.AppHost.Client("tool", otherKey);
        var first = (await TenantSwitchTests.InvokeCalculatorAsync(tool)).GetProperty("id").GetString();
        var second = (await TenantSwitchTests.InvokeCalculatorAsync(tool)).GetProperty("id").GetString();
        var others = (await TenantSwitchTests.InvokeCalculatorAsync(other)).GetProperty("id").GetString();

        var log = await tool.GetFromJsonAsync<JsonElement[]>("/v1/invocations");
        var newest = await tool.GetFromJsonAsync<JsonElement[]>("/v1/invocations?limit=1");

        Assert.Equal([second, first], log!.Select(i => i.GetProperty("id").GetString()));
        Assert.Equal("succeeded", log![0].GetProperty("status").GetString());
        Assert.Equal(42, log[0].GetProperty("result").GetProperty("value").GetDouble());
        Assert.Equal("6 * 7", log[0].GetProperty("arguments").GetProperty("expression").GetString());
        Assert.Equal([second], newest!.Select(i => i.GetProperty("id").GetString()));
        Assert.DoesNotContain(others, log.Select(i => i.GetProperty("id").GetString()));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("201")]
    [InlineData("many")]
    public async Task ABadLimitIs400ProblemJson(string limit)
    {
        var (_, key) = await platform.NewTenantAsync("tools");
        using var tool = platform.AppHost.Client("tool", key);

        using var response = await tool.GetAsync($"/v1/invocations?limit={limit}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheLogNeedsTheToolsScope()
    {
        var (_, key) = await platform.NewTenantAsync("runs");
        using var tool = platform.AppHost.Client("tool", key);

        Assert.Equal(HttpStatusCode.Forbidden, (await tool.GetAsync("/v1/invocations")).StatusCode);
    }
}
