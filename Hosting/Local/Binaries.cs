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
        if (!DebianPackages.CanInstall)
        {
            return null;
        }

        DebianPackages.Install(package, () => find() is not null, message => output.Line("apphost", message));
        return find();
    }

    private static DistributedApplicationException Missing(string what, string package, string resourceName) =>
        new($"{what} binaries not found: install them (Debian/Ubuntu: sudo apt-get install {package}) or point ConnectionStrings:{resourceName} at an existing server.");
}
