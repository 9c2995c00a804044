using System.Net.Sockets;
using System.Text;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Local;

/// <summary>Runs the machine's redis-server as a child process with its data (AOF) in the state folder.</summary>
internal sealed class RedisRunner(RedisResource redis, string password, int port, StateDirectory state, ConsoleOutput output, ResourceStateTable table)
    : ResourceRunner(redis, table)
{
    private ManagedProcess? _process;

    public override string Type => "redis";

    public override string? Url => $"tcp://localhost:{port}";

    public string ConnectionString => $"localhost:{port},password={password}";

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            SetState(ResourceState.Starting);
            var server = Binaries.RedisServer(output);
            var folder = state.PathOf(Name);
            Directory.CreateDirectory(folder);
            // The password goes in a private config file rather than on the command line, where ps would show it.
            var configFile = Path.Combine(folder, "redis.conf");
            File.WriteAllText(configFile, $"""
                port {port}
                bind 127.0.0.1
                requirepass "{password}"
                dir "{folder}"
                appendonly yes
                save ""
                daemonize no
                protected-mode yes
                """);
            File.SetUnixFileMode(configFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            _process = ManagedProcess.Start(Name, new System.Diagnostics.ProcessStartInfo(server, [configFile]), output);
            ProcessId = _process.Id;
            await WaitUntilAnsweringAsync(cancellationToken);
            SetState(ResourceState.Running);
            var exitCode = await _process.Exited.WaitAsync(cancellationToken);
            SetState(ResourceState.Exited, $"exit code {exitCode}");
        }
        catch (DistributedApplicationException e)
        {
            Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    public override async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        SetState(ResourceState.Stopping);
        await _process.StopAsync(Posix.SIGTERM, TimeSpan.FromSeconds(20));
        SetState(ResourceState.Finished);
        _process.Dispose();
        _process = null;
    }

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_process!.Exited.IsCompleted)
            {
                throw new DistributedApplicationException($"Redis exited while starting:{Environment.NewLine}{_process.RecentOutput()}");
            }

            if (await PingAsync(cancellationToken))
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync(Encoding.UTF8.GetBytes($"AUTH \"{password}\"\r\nPING\r\n"), cancellationToken);
            var buffer = new byte[256];
            var received = new StringBuilder();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            while (!received.ToString().Contains("+PONG", StringComparison.Ordinal))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0 || received.Append(Encoding.UTF8.GetString(buffer, 0, read)).ToString().StartsWith('-'))
                {
                    return false;
                }
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
