using System.Diagnostics;
using System.Text;

namespace Platform.TestSupport;

/// <summary>One more replica of a service, started beside a running platform with the same connection strings.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServiceProcess(Process process) => _process = process;

    /// <summary>Where the replica listens: it binds a port of its own choosing and says which in its log.</summary>
    public Uri Url => _listening.Task.Result;

    public static async Task<ServiceProcess> StartAsync(string service, string assemblyName, IReadOnlyDictionary<string, string> environment)
    {
        var directory = Path.Combine(Repository.Root, "services", service);
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.ArgumentList.Add(Path.Combine(directory, "bin", Repository.Configuration, "net10.0", $"{assemblyName}.dll"));
        startInfo.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        startInfo.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        startInfo.Environment["OTEL_SERVICE_NAME"] = service;
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        var replica = new ServiceProcess(Process.Start(startInfo)!);
        replica._process.OutputDataReceived += (_, e) => replica.Append(e.Data);
        replica._process.ErrorDataReceived += (_, e) => replica.Append(e.Data);
        replica._process.BeginOutputReadLine();
        replica._process.BeginErrorReadLine();
        await replica.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        return replica;
    }

    public HttpClient Client(string apiKey)
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new("Bearer", apiKey);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            AppHostProcess.SendSignal(_process.Id, 15);
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            await _listening.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The replica did not start listening within {timeout.TotalSeconds} s:\n{_output}");
        }

        using var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(2) };
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The replica exited with {_process.ExitCode}:\n{_output}");
            }

            try
            {
                if ((await client.GetAsync("/health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Not answering yet.
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"The replica was not healthy within {timeout.TotalSeconds} s:\n{_output}");
    }

    private void Append(string? line)
    {
        const string listening = "Now listening on: ";
        if (line?.IndexOf(listening, StringComparison.Ordinal) is >= 0 and var at)
        {
            _listening.TrySetResult(new Uri(line[(at + listening.Length)..].Trim()));
        }

        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
