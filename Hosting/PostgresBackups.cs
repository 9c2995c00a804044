using System.Diagnostics;
using Dapper;
using Npgsql;

namespace Platform.Hosting;

/// <summary>
/// pg_dump of every database on a server into one timestamped folder, and pg_restore of the newest such folder, with
/// the machine's own PostgreSQL client programs. Both run as the AppHost's user (never as the server's), which owns the
/// backups alone: they hold every tenant's data, so folders are 0700 and dumps 0600.
/// </summary>
internal static class PostgresBackups
{
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Dumps every database into a new folder under <paramref name="backupsFolder"/> (<c>&lt;DataDirectory&gt;/backups/&lt;server&gt;</c>).</summary>
    public static async Task<string> BackUpAsync(string serverConnectionString, string backupsFolder, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(backupsFolder, DateTime.UtcNow.ToString("yyyyMMdd-HHmmss-fff", System.Globalization.CultureInfo.InvariantCulture));
        foreach (var owned in new[] { Path.GetDirectoryName(backupsFolder)!, backupsFolder, folder })
        {
            Directory.CreateDirectory(owned, OwnerOnlyFolder);
            File.SetUnixFileMode(owned, OwnerOnlyFolder); // a folder made before backups were private keeps its mode otherwise
        }

        foreach (var database in await DatabasesAsync(serverConnectionString, cancellationToken))
        {
            // pg_dump truncates an existing file and keeps its mode, so the dump is never readable by others, even mid-way.
            var dump = Path.Combine(folder, database + ".dump");
            File.Open(dump, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerOnlyFile }).Dispose();
            await RunAsync("pg_dump", serverConnectionString, ["--format=custom", $"--file={dump}", $"--dbname={database}"], cancellationToken);
        }

        return folder;
    }

    /// <summary>Replaces each database found in the newest backup with its contents, in one transaction per database.</summary>
    public static async Task<string> RestoreLatestAsync(string serverConnectionString, string backupsFolder, CancellationToken cancellationToken)
    {
        var latest = Directory.Exists(backupsFolder) ? Directory.GetDirectories(backupsFolder).Order(StringComparer.Ordinal).LastOrDefault() : null;
        if (latest is null)
        {
            throw new InvalidOperationException($"There is no backup in {backupsFolder} yet.");
        }

        var dumps = Directory.GetFiles(latest, "*.dump");
        await PostgresDatabases.EnsureCreatedAsync(serverConnectionString, dumps.Select(Path.GetFileNameWithoutExtension)!,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, cancellationToken);
        foreach (var dump in dumps)
        {
            await RunAsync("pg_restore", serverConnectionString,
                ["--clean", "--if-exists", "--no-owner", "--single-transaction", $"--dbname={Path.GetFileNameWithoutExtension(dump)}", dump], cancellationToken);
        }

        return latest;
    }

    private static async Task<IReadOnlyList<string>> DatabasesAsync(string serverConnectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false }.ConnectionString);
        var names = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres' ORDER BY datname", cancellationToken: cancellationToken));
        return names.AsList();
    }

    private static async Task RunAsync(string program, string serverConnectionString, string[] arguments, CancellationToken cancellationToken)
    {
        var server = new NpgsqlConnectionStringBuilder(serverConnectionString);
        var bin = ServerBinaries.FindPostgres()
            ?? throw new InvalidOperationException($"{program} not found: install PostgreSQL's client programs (Debian/Ubuntu: sudo apt-get install postgresql-client).");
        var startInfo = new ProcessStartInfo(Path.Combine(bin, program), [$"--host={server.Host}", $"--port={server.Port}", $"--username={server.Username}", "--no-password", .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        startInfo.Environment["PGPASSWORD"] = server.Password;
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var errors = await process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {errors.Trim()} {(await output).Trim()}");
        }
    }
}
