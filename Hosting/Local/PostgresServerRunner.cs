using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Local;

/// <summary>
/// Runs the machine's PostgreSQL as a child process over a data folder in the state folder. Postgres refuses to run
/// as root, so under root it runs as the unprivileged <c>postgres</c> user.
/// </summary>
internal sealed class PostgresServerRunner(
    PostgresServerResource server, string password, int port, StateDirectory state, ConsoleOutput output, ResourceStateTable table)
    : ResourceRunner(server, table)
{
    private const string UnprivilegedUser = "postgres";
    private ManagedProcess? _process;

    public override string Type => "postgres";

    public override string? Url => $"tcp://localhost:{port}";

    public string ConnectionString => $"Host=localhost;Port={port};Username={PostgresServerResource.UserName};Password={password}";

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            SetState(ResourceState.Starting);
            var bin = Binaries.PostgresBinDirectory(output);
            var dataDirectory = PrepareDataDirectory(bin);
            _process = ManagedProcess.Start(Name, AsServerUser(Path.Combine(bin, "postgres"),
                "-D", dataDirectory, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300"), output);
            ProcessId = _process.Id;
            await WaitUntilAcceptingAsync(cancellationToken);
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
        // SIGINT is Postgres's "fast" shutdown: roll back sessions, checkpoint, exit.
        await _process.StopAsync(Posix.SIGINT, TimeSpan.FromSeconds(30));
        SetState(ResourceState.Finished);
        _process.Dispose();
        _process = null;
    }

    private string PrepareDataDirectory(string bin)
    {
        var dataDirectory = Path.Combine(ServerFolder(), "data");
        var version = File.Exists(Path.Combine(dataDirectory, "PG_VERSION"))
            ? File.ReadAllText(Path.Combine(dataDirectory, "PG_VERSION")).Trim()
            : null;
        var binaryVersion = Path.GetFileName(Path.GetDirectoryName(bin));
        if (version is not null)
        {
            if (int.TryParse(binaryVersion, out _) && version != binaryVersion)
            {
                throw new DistributedApplicationException(
                    $"{dataDirectory} was created by PostgreSQL {version} but this machine runs PostgreSQL {binaryVersion}. Upgrade it with pg_upgrade, or point StateDirectory elsewhere; it was left untouched.");
            }

            return dataDirectory;
        }

        if (Directory.Exists(dataDirectory) && Directory.EnumerateFileSystemEntries(dataDirectory).Any())
        {
            throw new DistributedApplicationException(
                $"{dataDirectory} is not empty and is not a PostgreSQL data folder. Move it away or point StateDirectory elsewhere; it was left untouched.");
        }

        output.Line("apphost", $"Initialising a new PostgreSQL data folder at {dataDirectory}");
        Directory.CreateDirectory(dataDirectory);
        var passwordFile = Path.Combine(Path.GetDirectoryName(dataDirectory)!, "initdb-password");
        File.WriteAllText(passwordFile, password);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            GiveToServerUser(Path.GetDirectoryName(dataDirectory)!);
            RunToCompletion(AsServerUser(Path.Combine(bin, "initdb"), "-D", dataDirectory, "-U", PostgresServerResource.UserName,
                $"--pwfile={passwordFile}", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"));
        }
        finally
        {
            File.Delete(passwordFile);
        }

        return dataDirectory;
    }

    /// <summary>
    /// The folder that holds the data folder: in the state folder, unless the server user cannot reach it (a checkout
    /// under /root), in which case a folder of that user's own, keyed by the state folder, keeps data per checkout.
    /// </summary>
    private string ServerFolder()
    {
        var folder = state.PathOf(Name);
        Directory.CreateDirectory(folder);
        if (!Environment.IsPrivilegedProcess)
        {
            return folder;
        }

        GiveToServerUser(folder);
        if (RunToCompletion(AsServerUser("/usr/bin/test", "-w", folder), throwOnFailure: false))
        {
            return folder;
        }

        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(folder)))[..16];
        var fallback = Path.Combine("/var/lib/postgresql/platform", key);
        output.Line("apphost", $"The postgres user cannot reach {folder}; keeping PostgreSQL data in {fallback} instead.");
        Directory.CreateDirectory(fallback);
        GiveToServerUser("/var/lib/postgresql/platform");
        return fallback;
    }

    private static void GiveToServerUser(string folder)
    {
        if (Environment.IsPrivilegedProcess)
        {
            RunToCompletion(new ProcessStartInfo("chown", ["-R", $"{UnprivilegedUser}:{UnprivilegedUser}", folder]));
        }
    }

    private static ProcessStartInfo AsServerUser(string command, params string[] arguments) =>
        Environment.IsPrivilegedProcess
            ? new ProcessStartInfo("setpriv", ["--reuid", UnprivilegedUser, "--regid", UnprivilegedUser, "--init-groups", "--", command, .. arguments])
            : new ProcessStartInfo(command, arguments);

    private static bool RunToCompletion(ProcessStartInfo startInfo, bool throwOnFailure = true)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        using var process = Process.Start(startInfo)!;
        var standardOutput = process.StandardOutput.ReadToEndAsync();
        var standardError = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 && throwOnFailure)
        {
            throw new DistributedApplicationException(
                $"{startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)} failed ({process.ExitCode}): {standardError.Trim()} {standardOutput.Result.Trim()}");
        }

        return process.ExitCode == 0;
    }

    private async Task WaitUntilAcceptingAsync(CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "postgres", Timeout = 2, Pooling = false };
        while (true)
        {
            if (_process!.Exited.IsCompleted)
            {
                throw new DistributedApplicationException($"PostgreSQL exited while starting:{Environment.NewLine}{_process.RecentOutput()}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
            {
                throw new DistributedApplicationException(
                    $"PostgreSQL rejected the password kept in the state folder: the data folder was made with another one. Set Parameters:{server.Password.Name} to that password.");
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }
}
