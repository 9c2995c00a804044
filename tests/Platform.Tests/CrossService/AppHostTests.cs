using System.Net;
using System.Text.Json;
using Aspire.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.TestSupport;

namespace Platform.Tests.CrossService;

[Collection(PlatformCollection.Name)]
public sealed class AppHostTests(PlatformFixture platform)
{
    public static readonly string[] Resources = ["postgres", "orchestratordb", "planningdb", "modeldb", "tooldb", "cache", .. PlatformApp.Services];

    [Fact]
    public void EveryResourceAndReplicaIsRunningAndHealthy()
    {
        foreach (var resource in Resources)
        {
            Assert.True(platform.AppHost.App.ResourceNotifications.TryGetCurrentState(platform.AppHost.Replicas(resource)[0].Id, out var current), resource);
            Assert.Equal("Running", current.Snapshot.State?.Text);
            Assert.Equal(HealthStatus.Healthy, current.Snapshot.HealthStatus);
        }

        Assert.Equal(2, platform.AppHost.Replicas("model").Count(r => r.State == "Running"));
    }

    [Theory]
    [InlineData("orchestrator", "PostgreSql")]
    [InlineData("planning", "PostgreSql")]
    [InlineData("model", "PostgreSql")]
    [InlineData("tool", "PostgreSql")]
    [InlineData("dashboard", "StackExchange.Redis")]
    public async Task HealthIncludesPostgresAndRedisAndNeedsNoKey(string service, string check)
    {
        using var client = platform.AppHost.Client(service);
        using var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = health.RootElement.GetProperty("checks");
        Assert.Equal("Healthy", checks.GetProperty(check).GetProperty("status").GetString());
        Assert.Equal("Healthy", checks.GetProperty("StackExchange.Redis").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
    }

    [Fact]
    public async Task EveryServicePublishesAnOpenApiDocumentWithoutAKey()
    {
        foreach (var service in PlatformApp.Services)
        {
            using var client = platform.AppHost.Client(service);
            using var document = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
            Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ACrashedServiceShowsAsExitedAndTheRestartCommandBringsItBack()
    {
        var planning = platform.AppHost.Replicas("planning").Single();

        Processes.SendSignal(planning.Pid!.Value, 9);
        await WaitUntilAsync("the killed planning service to show as not running", TimeSpan.FromSeconds(30), () => platform.AppHost.State(planning.Id) is not ("Running" or "Starting"));
        await platform.AppHost.RunCommandAsync(planning.Id, "restart");
        await platform.AppHost.App.ResourceNotifications.WaitForResourceHealthyAsync("planning").WaitAsync(TimeSpan.FromSeconds(60));

        Assert.NotEqual(planning.Pid, platform.AppHost.Replicas("planning").Single().Pid);
        using var client = platform.Admin("planning");
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/plans")).StatusCode);
    }
}
