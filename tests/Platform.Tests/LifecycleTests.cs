using System.Net;
using Platform.TestSupport;

namespace Platform.Tests;

/// <summary>Starting and stopping whole AppHosts; each test owns its own.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task SigtermStopsEveryProcessItStarted()
    {
        var appHost = await AppHostProcess.StartAsync();
        await using (appHost)
        {
            var pids = AppHostProcess.Resources.Select(r => appHost.ResourcePid(r)!.Value).ToList();

            appHost.Signal(15);

            Assert.Equal(0, await appHost.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.All(pids, pid => Assert.False(IsAlive(pid), $"process {pid} outlived the AppHost"));
            Assert.Contains("[postgres]", appHost.Output, StringComparison.Ordinal);
            Assert.Contains("database system is shut down", appHost.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnAppHostKilledHardLeavesNothingBehindOnTheNextStart()
    {
        var state = AppHostProcess.NewStateDirectory();
        await using var killed = await AppHostProcess.StartAsync(state);
        var orphans = AppHostProcess.Resources.Select(r => killed.ResourcePid(r)!.Value).ToList();
        killed.Signal(9);
        await killed.WaitForExitAsync(TimeSpan.FromSeconds(10));

        await using var restarted = await AppHostProcess.StartAsync(state);

        Assert.All(orphans, pid => Assert.False(IsAlive(pid), $"orphan {pid} is still running"));
        Assert.Contains("left running by an AppHost that did not exit cleanly", restarted.Output, StringComparison.Ordinal);
        using var client = restarted.Client("orchestrator", restarted.AdminApiKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/me")).StatusCode);
    }

    private static bool IsAlive(int pid) => File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
