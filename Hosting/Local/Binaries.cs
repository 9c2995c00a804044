using System.Diagnostics;

namespace Platform.Hosting.Local;

/// <summary>Finds the machine's own Postgres and Redis binaries, installing Debian's packages when it may.</summary>
internal static class Binaries
{
    public static string PostgresBinDirectory(ConsoleOutput output)
    {
        return FindPostgres() ?? InstallThenFind("postgresql", FindPostgres, output)
            ?? throw Missing("PostgreSQL server", "postgresql", "postgres");
    }

    public static string RedisServer(ConsoleOutput output)
    {
        return FindRedis() ?? InstallThenFind("redis-server", FindRedis, output)
            ?? throw Missing("Redis server", "redis-server", "cache");
    }

    private static string? FindPostgres()
    {
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var newest = Directory.GetDirectories("/usr/lib/postgresql")
                .Where(d => int.TryParse(Path.GetFileName(d), out _) && File.Exists(Path.Combine(d, "bin", "initdb")))
                .MaxBy(d => int.Parse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture));
            if (newest is not null)
            {
                return Path.Combine(newest, "bin");
            }
        }

        var initdb = OnPath("initdb");
        return initdb is not null && File.Exists(Path.Combine(Path.GetDirectoryName(initdb)!, "postgres")) ? Path.GetDirectoryName(initdb) : null;
    }

    private static string? FindRedis() => OnPath("redis-server");

    private static string? OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, command))
            .FirstOrDefault(File.Exists);

    private static string? InstallThenFind(string package, Func<string?> find, ConsoleOutput output)
    {
        if (!Environment.IsPrivilegedProcess || !File.Exists("/etc/debian_version") || OnPath("apt-get") is not { } aptGet)
        {
            return null;
        }

        // Test assemblies start hosts in parallel; dpkg allows one installer at a time, so they take turns here.
        using var turn = AptTurn();
        if (find() is { } installedMeanwhile)
        {
            return installedMeanwhile;
        }

        output.Line("apphost", $"{package} is not installed; installing it with apt-get (this happens once).");
        foreach (var arguments in new[] { new[] { "update", "-qq" }, new[] { "install", "-y", "-qq", "--no-install-recommends", package } })
        {
            var startInfo = new ProcessStartInfo(aptGet, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var apt = Process.Start(startInfo)!;
            var log = apt.StandardOutput.ReadToEndAsync();
            var errors = apt.StandardError.ReadToEnd();
            apt.WaitForExit();
            if (apt.ExitCode != 0)
            {
                throw new DistributedApplicationException($"apt-get {string.Join(' ', arguments)} failed ({apt.ExitCode}): {errors.Trim()} {log.Result.Trim()}");
            }
        }

        return find();
    }

    private static FileStream AptTurn()
    {
        var lockFile = Path.Combine(Path.GetTempPath(), "platform-apt-install.lock");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                Thread.Sleep(1000);
            }
        }
    }

    private static DistributedApplicationException Missing(string what, string package, string resourceName) =>
        new($"{what} binaries not found: install them (Debian/Ubuntu: sudo apt-get install {package}) or point ConnectionStrings:{resourceName} at an existing server.");
}
