using System.Net;
using Platform.TestSupport;

namespace Platform.Tests.CrossService;

/// <summary>Starting and stopping whole AppHosts as processes, the way a user runs one; each test owns its own.</summary>
[Collection(AppHostProcessCollection.Name)]
public sealed class LifecycleTests
{
    [Fact]
    public async Task CtrlCStopsEveryProcessItStartedAndShutsPostgresDownCleanly()
    {
        await using var appHost = await AppHostProcess.StartAsync();
        var started = appHost.Descendants();
        Assert.Contains(started, pid => Processes.CommandLine(pid).Contains("postgres", StringComparison.Ordinal));
        Assert.Contains(started, pid => Processes.CommandLine(pid).Contains("redis-server", StringComparison.Ordinal));

        appHost.Signal(2);

        // Generous: services drain their work into the databases before PostgreSQL and Redis stop, on two busy cores.
        var exited = await Task.WhenAny(appHost.WaitForExitAsync(TimeSpan.FromSeconds(120)));
        Assert.True(exited.IsCompletedSuccessfully, $"Still running after Ctrl+C: {string.Join("; ", started.Where(Processes.IsAlive).Select(Processes.CommandLine))}\n{appHost.Output[^Math.Min(appHost.Output.Length, 4000)..]}");
        Assert.Equal(0, exited.Result);
        await WaitUntilGoneAsync(started, TimeSpan.FromSeconds(30));
        Assert.False(File.Exists(Path.Combine(appHost.DataDirectory, "postgres", "data", "postmaster.pid")), "PostgreSQL did not shut down cleanly");
    }

    [Fact]
    public async Task AnAppHostKilledHardLeavesNothingRunningAndItsDataServesTheNextStart()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), $"platform-apphost-{Guid.NewGuid():N}");
        IReadOnlyList<int> started;
        await using (var killed = await AppHostProcess.StartAsync(dataDirectory))
        {
            started = killed.Descendants();
            Assert.True(started.Count >= 8, $"only {started.Count} processes found");

            killed.Signal(9);
            await killed.WaitForExitAsync(TimeSpan.FromSeconds(10));
            await WaitUntilGoneAsync(started, TimeSpan.FromSeconds(60));
        }

        await using var restarted = await AppHostProcess.StartAsync(dataDirectory);
        using var client = PlatformApp.ClientFor(restarted.Service("orchestrator")!.Value.Url, restarted.AdminApiKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/me")).StatusCode);
    }

    private static async Task WaitUntilGoneAsync(IReadOnlyList<int> pids, TimeSpan timeout) =>
        await WaitUntilAsync("every process the AppHost started to end with it", timeout, () => Task.FromResult(pids.Where(Processes.IsAlive).ToList()),
            alive => alive.Count == 0, alive => $"outlived the AppHost: {string.Join("; ", alive.Select(pid => $"{pid} ({Processes.CommandLine(pid)})"))}");
}

[CollectionDefinition(Name)]
public sealed class AppHostProcessCollection
{
    public const string Name = "apphost-process";
}
