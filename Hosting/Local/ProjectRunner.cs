using System.Diagnostics;
using System.Runtime.InteropServices;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Local;

/// <summary>
/// Runs a built .NET project with the Aspire environment, watches its health endpoint, and restarts it with
/// exponential backoff when it exits.
/// </summary>
internal sealed class ProjectRunner(
    ProjectResource project, int port, IReadOnlyDictionary<string, string> environment, ConsoleOutput output, ResourceStateTable table)
    : ResourceRunner(project, table)
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(60);
    private static readonly HttpClient HealthClient = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly Lock _gate = new();
    private ManagedProcess? _process;
    private bool _stopping;

    public override string Type => "project";

    public override string? Url => $"http://localhost:{port}";

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(project.Metadata.AssemblyPath))
        {
            Fail($"{project.Metadata.AssemblyPath} does not exist: build the solution first (dotnet build).");
            return;
        }

        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.StartNew();
            SetState(ResourceState.Starting);
            lock (_gate)
            {
                if (_stopping)
                {
                    return;
                }

                _process = ManagedProcess.Start(Name, StartInfo(), output);
                ProcessId = _process.Id;
            }

            var exitCode = await SuperviseAsync(_process, cancellationToken);
            if (exitCode is null || _stopping)
            {
                return;
            }

            lock (_gate)
            {
                _process.Dispose();
                _process = null;
            }

            failures = started.Elapsed > StableAfter ? 1 : failures + 1;
            var backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, failures - 1)));
            SetState(ResourceState.Exited, $"exit code {exitCode}");
            SetState(ResourceState.Restarting, $"in {backoff.TotalSeconds:0} s");
            try
            {
                await Task.Delay(backoff, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync()
    {
        ManagedProcess? process;
        lock (_gate)
        {
            _stopping = true;
            process = _process;
        }

        if (process is null)
        {
            return;
        }

        SetState(ResourceState.Stopping);
        await process.StopAsync(Posix.SIGTERM, TimeSpan.FromSeconds(15));
        SetState(ResourceState.Finished);
    }

    /// <summary>Polls health until the process exits; returns its exit code, or null when stopping.</summary>
    private async Task<int?> SuperviseAsync(ManagedProcess process, CancellationToken cancellationToken)
    {
        var healthUrl = new Uri($"{Url}{project.HealthCheckPath}");
        try
        {
            while (!process.Exited.IsCompleted)
            {
                var healthy = await IsHealthyAsync(healthUrl, cancellationToken);
                if (healthy && State != ResourceState.Running)
                {
                    SetState(ResourceState.Running);
                }
                else if (!healthy && State == ResourceState.Running)
                {
                    SetState(ResourceState.Unhealthy);
                }

                var interval = State == ResourceState.Running ? TimeSpan.FromSeconds(5) : TimeSpan.FromMilliseconds(100);
                await Task.WhenAny(process.Exited, Task.Delay(interval, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
            }

            return await process.Exited;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task<bool> IsHealthyAsync(Uri healthUrl, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await HealthClient.GetAsync(healthUrl, cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private ProcessStartInfo StartInfo()
    {
        var startInfo = new ProcessStartInfo(DotnetHost(), [project.Metadata.AssemblyPath])
        {
            WorkingDirectory = Path.GetDirectoryName(project.Metadata.ProjectPath)!,
        };
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        return startInfo;
    }

    /// <summary>The dotnet host this AppHost runs on, so services run on the same runtime.</summary>
    private static string DotnetHost()
    {
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory();
        var host = Path.GetFullPath(Path.Combine(runtimeDirectory, "..", "..", "..", "dotnet"));
        return File.Exists(host) ? host : "dotnet";
    }
}
