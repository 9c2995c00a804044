using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;

namespace Platform.TestSupport;

/// <summary>
/// The real AppHost as a child process over a throwaway state folder with free ports, found through its state file,
/// exactly as a script would find a running platform.
/// </summary>
public sealed class AppHostProcess : IAsyncDisposable
{
    public static readonly string[] Resources = ["postgres", "cache", "orchestrator", "planning", "model", "tool", "dashboard"];
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private AppHostProcess(string stateDirectory, Process process)
    {
        StateDirectory = stateDirectory;
        _process = process;
    }

    public string StateDirectory { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

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

    public static string NewStateDirectory() => Path.Combine(Path.GetTempPath(), $"platform-test-{Guid.NewGuid():N}");

    public static async Task<AppHostProcess> StartAsync(string? stateDirectory = null)
    {
        stateDirectory ??= NewStateDirectory();
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Repository.AppHostDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Repository.AppHostAssembly);
        startInfo.ArgumentList.Add($"--StateDirectory={stateDirectory}");
        foreach (var resource in Resources)
        {
            startInfo.ArgumentList.Add($"--Ports:{resource}=0");
        }

        var process = Process.Start(startInfo)!;
        var host = new AppHostProcess(stateDirectory, process);
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await host.WaitUntilReadyAsync(TimeSpan.FromSeconds(120));
        return host;
    }

    public JsonObject State() => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(StateDirectory, "state.json")))!;

    public Uri Url(string resource) => new(State()["resources"]![resource]!["url"]!.GetValue<string>());

    public string AdminApiKey => State()["parameters"]!["admin-api-key"]!.GetValue<string>();

    public string ConnectionString(string resource) => State()["connectionStrings"]![resource]!.GetValue<string>();

    public int? ResourcePid(string resource) => State()["resources"]![resource]!["pid"]?.GetValue<int>();

    public string ResourceState(string resource) => State()["resources"]![resource]!["state"]!.GetValue<string>();

    public HttpClient Client(string resource, string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = Url(resource), Timeout = TimeSpan.FromSeconds(30) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        }

        return client;
    }

    public void Signal(int signal) => SendSignal(_process.Id, signal);

    public static void SendSignal(int pid, int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(15);
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
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    private async Task WaitUntilReadyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var stateFile = Path.Combine(StateDirectory, "state.json");
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The AppHost exited with {_process.ExitCode} before it was ready:\n{Output}");
            }

            // A state file left by an earlier AppHost on the same folder does not count.
            if (File.Exists(stateFile) && JsonNode.Parse(File.ReadAllText(stateFile)) is { } state
                && state["appHostPid"]?.GetValue<int>() == _process.Id && state["ready"]?.GetValue<bool>() == true)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The AppHost was not ready within {timeout.TotalSeconds} s:\n{Output}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
