using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests;

[Collection(PlatformCollection.Name)]
public sealed class ScratchTimingTests(PlatformFixture platform)
{
    private static void Log(string text) => File.AppendAllText("/tmp/wt-runs-replan-scratch/out.txt", text + "\n");

    [Fact]
    public async Task Measure()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.CreateAgentAsync(platform.AppHost, key, "calc", null, "builtin.calculator");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        using var tool = platform.AppHost.Client("tool", key);
        // warm-up
        var warm = await Runs.StartAsync(orchestrator, "calc", "compute 1 + 1");
        await Runs.WaitForAsync(orchestrator, warm.Id(), TimeSpan.FromSeconds(90));
        foreach (var goal in new[] { "compute 12 * 7 and add 100 to the result", "compute 12 * 7 and add 100 to the result", "compute 7 / 0, then write a note about it" })
        {
            var watch = Stopwatch.StartNew();
            var started = await Runs.StartAsync(orchestrator, "calc", goal);
            var run = await Runs.WaitForAsync(orchestrator, started.Id(), TimeSpan.FromSeconds(90));
            watch.Stop();
            var events = await orchestrator.GetStringAsync($"/v1/runs/{started.Id()}/events?follow=false");
            Log($"{goal}: {watch.Elapsed.TotalSeconds:F2} s; {run}");
            Log(events.Length > 6000 ? events[..6000] : events);
        }

        Log(await tool.GetStringAsync("/v1/invocations?limit=20"));
    }
}
