namespace Platform.Hosting.Local;

/// <summary>
/// An AppHost killed with SIGKILL cannot stop its children. The next start finds them through the state file (pid and
/// kernel start time, so a reused pid is never touched) and stops them before starting anew.
/// </summary>
internal static class OrphanedProcesses
{
    public static async Task StopAsync(StateDirectory state, ConsoleOutput output)
    {
        var previous = state.ReadJson(state.StateFile);
        if (previous is null)
        {
            return;
        }

        if (IsSameProcessAlive(previous["appHostPid"]?.GetValue<int>(), previous["appHostStartTime"]?.GetValue<long>()) is { } appHost
            && appHost != Environment.ProcessId)
        {
            throw new DistributedApplicationException(
                $"Another AppHost (pid {appHost}) is running with the state folder {state.Root}. Stop it first, or set StateDirectory to another folder.");
        }

        var orphans = (previous["resources"]?.AsObject() ?? [])
            .Select(r => (Name: r.Key, Pid: IsSameProcessAlive(r.Value?["pid"]?.GetValue<int>(), r.Value?["processStartTime"]?.GetValue<long>())))
            .Where(r => r.Pid is not null)
            .ToList();
        foreach (var (name, pid) in orphans)
        {
            output.Line("apphost", $"Stopping {name} (pid {pid}) left running by an AppHost that did not exit cleanly.");
            Posix.Signal(pid!.Value, Posix.SIGTERM);
        }

        for (var waited = 0; waited < 100 && orphans.Any(o => Posix.IsAlive(o.Pid!.Value)); waited++)
        {
            await Task.Delay(100);
        }

        foreach (var (_, pid) in orphans.Where(o => Posix.IsAlive(o.Pid!.Value)))
        {
            Posix.Signal(pid!.Value, Posix.SIGKILL);
        }
    }

    private static int? IsSameProcessAlive(int? pid, long? startTime) =>
        pid is { } id && startTime is { } recorded && Posix.StartTime(id) == recorded ? id : null;
}
