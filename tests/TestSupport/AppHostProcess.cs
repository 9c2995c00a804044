using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Platform.TestSupport;

/// <summary>
/// The built AppHost as a child process, the way <c>dotnet run --project AppHost</c> runs it: DCP, the Aspire dashboard
/// and every resource, over a throwaway data folder. What it started is found the Unix way, from /proc.
/// </summary>
public sealed partial class AppHostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<Uri> _loginUrl = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private AppHostProcess(Process process, string dataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    /// <summary>Runs the built AppHost to publish (<c>--publisher manifest</c> or a pipeline step), as azd and the Aspire CLI do.</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> PublishAsync(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.AppHostDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Repository.AppHostAssembly);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout, stderr);
    }

    public int Id => _process.Id;

    public string AdminApiKey { get; } = $"plt_test{Guid.NewGuid():N}";

    public Uri LoginUrl => _loginUrl.Task.Result;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<AppHostProcess> StartAsync(string? dataDirectory = null, params string[] settings)
    {
        dataDirectory ??= Path.Combine(Path.GetTempPath(), $"platform-apphost-{Guid.NewGuid():N}");
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.AppHostDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Repository.AppHostAssembly);
        var host = new AppHostProcess(new Process { StartInfo = startInfo }, dataDirectory);
        foreach (var argument in new[] { "--DataServers:RunAs=Process", $"--DataServers:DataDirectory={dataDirectory}", $"--Parameters:admin-api-key={host.AdminApiKey}",
                     "--Parameters:postgres-password=apphost-test-password-0001", "--Parameters:cache-password=apphosttestpassword0001", "--DcpPublisher:RandomizePorts=true" }
                     .Concat(settings.Select(s => $"--{s}")))
        {
            startInfo.ArgumentList.Add(argument);
        }

        // What the AppHost's launch profile sets under dotnet run, on ports of this test's own.
        startInfo.Environment["DOTNET_ENVIRONMENT"] = "Development";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["ASPNETCORE_URLS"] = $"http://localhost:{FreePort()}";
        startInfo.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = $"http://localhost:{FreePort()}";
        startInfo.Environment["ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL"] = $"http://localhost:{FreePort()}";
        startInfo.Environment["ASPIRE_ALLOW_UNSECURED_TRANSPORT"] = "true";

        host._process.OutputDataReceived += (_, e) => host.Append(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        host._process.Start();
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        try
        {
            await host._loginUrl.Task.WaitAsync(TimeSpan.FromSeconds(60));
            foreach (var service in PlatformApp.Services)
            {
                await host.WaitUntilHealthyAsync(service, TimeSpan.FromMinutes(2));
            }
        }
        catch (TimeoutException e)
        {
            await host.DisposeAsync();
            throw new TimeoutException($"{e.Message}\n{host.Output}", e);
        }

        return host;
    }

    /// <summary>Every process the AppHost started, directly or through DCP (which it runs with <c>--monitor</c> its pid).</summary>
    public IReadOnlyList<int> Descendants()
    {
        var roots = Processes.Table().Where(p => p.CommandLine.Contains($"--monitor {Id} ", StringComparison.Ordinal)).Select(p => p.Pid).Append(Id).ToHashSet();
        return [.. Processes.Below(roots).Where(pid => pid != Id)];
    }

    /// <summary>The process of <paramref name="service"/> and the URL it listens on itself.</summary>
    public (int Pid, Uri Url)? Service(string service)
    {
        foreach (var pid in Descendants())
        {
            var commandLine = Processes.CommandLine(pid);
            if (commandLine.Contains($"/services/{service}/bin/", StringComparison.Ordinal) && !commandLine.Contains(" run ", StringComparison.Ordinal)
                && Processes.Environment(pid).TryGetValue("ASPNETCORE_URLS", out var urls))
            {
                return (pid, new Uri(urls.Split(';')[0]));
            }
        }

        return null;
    }

    public void Signal(int signal) => Processes.SendSignal(Id, signal);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(2);
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private async Task WaitUntilHealthyAsync(string service, TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Waits.WaitUntilAsync($"{service} to be healthy", timeout, async Task<(bool Healthy, string Seen)> () =>
        {
            if (_process.HasExited)
            {
                throw new TimeoutException($"The AppHost exited with {_process.ExitCode}.");
            }

            if (Service(service) is not { } found)
            {
                return (false, $"no process of it yet; the AppHost's processes: {string.Join("; ", Descendants().Select(pid => $"{pid} {Processes.CommandLine(pid)}"))}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri(found.Url, "/health"));
                return (response.IsSuccessStatusCode, $"process {found.Pid} at {found.Url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return (false, $"process {found.Pid} at {found.Url} did not answer: {e.Message}");
            }
        }, health => health.Healthy, health => health.Seen);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (LoginUrlPattern().Match(line) is { Success: true } match)
        {
            _loginUrl.TrySetResult(new Uri(match.Groups[1].Value));
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    [GeneratedRegex(@"Login to the dashboard at (\S+)")]
    private static partial Regex LoginUrlPattern();
}
