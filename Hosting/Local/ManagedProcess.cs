using System.Diagnostics;

namespace Platform.Hosting.Local;

/// <summary>A child process whose output is prefixed onto the console and which stops by signal, then by force.</summary>
internal sealed class ManagedProcess : IDisposable
{
    private const int RecentLineCount = 40;
    private readonly Process _process;
    private readonly Queue<string> _recentLines = new();
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ManagedProcess(Process process) => _process = process;

    public int Id => _process.Id;

    public Task<int> Exited => _exited.Task;

    public static ManagedProcess Start(string name, ProcessStartInfo startInfo, ConsoleOutput output)
    {
        startInfo = InOwnSession(startInfo);
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.RedirectStandardInput = true;
        startInfo.UseShellExecute = false;
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var managed = new ManagedProcess(process);
        process.OutputDataReceived += (_, e) => managed.OnLine(name, e.Data, output);
        process.ErrorDataReceived += (_, e) => managed.OnLine(name, e.Data, output);
        process.Exited += (_, _) =>
        {
            process.WaitForExit();
            managed._exited.TrySetResult(process.ExitCode);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return managed;
    }

    /// <summary>
    /// Runs the child in a session of its own, so a terminal's Ctrl+C reaches only the AppHost, which then stops the
    /// services before the servers. <c>setsid</c> execs in place here, so the pid is the child's own.
    /// </summary>
    private static ProcessStartInfo InOwnSession(ProcessStartInfo startInfo)
    {
        const string setsid = "/usr/bin/setsid";
        if (!File.Exists(setsid))
        {
            return startInfo;
        }

        var wrapped = new ProcessStartInfo(setsid) { WorkingDirectory = startInfo.WorkingDirectory };
        wrapped.ArgumentList.Add(startInfo.FileName);
        foreach (var argument in startInfo.ArgumentList)
        {
            wrapped.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in startInfo.Environment)
        {
            wrapped.Environment[key] = value;
        }

        return wrapped;
    }

    public string RecentOutput()
    {
        lock (_recentLines)
        {
            return string.Join(Environment.NewLine, _recentLines);
        }
    }

    /// <summary>Sends <paramref name="signal"/>, waits up to <paramref name="grace"/>, then kills the whole tree.</summary>
    public async Task StopAsync(int signal, TimeSpan grace)
    {
        if (_exited.Task.IsCompleted)
        {
            return;
        }

        Posix.Signal(_process.Id, signal);
        if (await Task.WhenAny(_exited.Task, Task.Delay(grace)) != _exited.Task)
        {
            Kill();
            await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public void Dispose() => _process.Dispose();

    private void OnLine(string name, string? line, ConsoleOutput output)
    {
        if (line is null)
        {
            return;
        }

        lock (_recentLines)
        {
            _recentLines.Enqueue(line);
            if (_recentLines.Count > RecentLineCount)
            {
                _recentLines.Dequeue();
            }
        }

        output.Line(name, line);
    }
}
