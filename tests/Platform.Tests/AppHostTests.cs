using System.Net;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Tests;

[Collection(PlatformCollection.Name)]
public sealed class AppHostTests(PlatformFixture platform)
{
    private static readonly string[] Services = ["orchestrator", "planning", "model", "tool", "dashboard"];

    [Fact]
    public void EveryResourceIsRunningInTheStateFile()
    {
        foreach (var resource in AppHostProcess.Resources)
        {
            Assert.Equal("Running", platform.AppHost.ResourceState(resource));
        }
    }

    [Theory]
    [InlineData("orchestrator", "PostgreSql_orchestratordb")]
    [InlineData("planning", "PostgreSql_planningdb")]
    [InlineData("model", "PostgreSql_modeldb")]
    [InlineData("tool", "PostgreSql_tooldb")]
    [InlineData("dashboard", "StackExchange.Redis_cache")]
    public async Task HealthIncludesPostgresAndRedisAndNeedsNoKey(string service, string check)
    {
        using var client = platform.AppHost.Client(service);
        using var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = health.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty(check).GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("StackExchange.Redis_cache").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
    }

    [Fact]
    public async Task EveryServicePublishesAnOpenApiDocumentWithoutAKey()
    {
        foreach (var service in Services)
        {
            using var client = platform.AppHost.Client(service);
            using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
            Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ACrashedServiceIsRestarted()
    {
        var before = platform.AppHost.ResourcePid("planning")!.Value;

        AppHostProcess.SendSignal(before, 9);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline
            && (platform.AppHost.ResourcePid("planning") == before || platform.AppHost.ResourceState("planning") != "Running"))
        {
            await Task.Delay(200);
        }

        Assert.Equal("Running", platform.AppHost.ResourceState("planning"));
        Assert.NotEqual(before, platform.AppHost.ResourcePid("planning"));
        using var client = platform.Admin("planning");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/plans")).StatusCode);
        Assert.Contains("planning: Restarting", platform.AppHost.Output, StringComparison.Ordinal);
    }
}
