namespace Platform.Hosting;

/// <summary>Finds the machine's PostgreSQL and Redis binaries, installing Debian's packages first when it may.</summary>
internal static class ServerBinaries
{
    public static async Task<string> PostgresBinDirectoryAsync(Action<string> say, CancellationToken cancellationToken) =>
        FindPostgres() ?? await InstallThenFindAsync("postgresql", FindPostgres, say, cancellationToken)
        ?? throw Missing("PostgreSQL server", "postgresql", "postgres");

    public static async Task<string> RedisServerAsync(Action<string> say, CancellationToken cancellationToken) =>
        OnPath("redis-server") ?? await InstallThenFindAsync("redis-server", () => OnPath("redis-server"), say, cancellationToken)
        ?? throw Missing("Redis server", "redis-server", "cache");

    internal static string? FindPostgres()
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

    private static string? OnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, command))
            .FirstOrDefault(File.Exists);

    private static async Task<string?> InstallThenFindAsync(string package, Func<string?> find, Action<string> say, CancellationToken cancellationToken)
    {
        if (!DebianPackages.CanInstall)
        {
            return null;
        }

        await DebianPackages.InstallAsync(package, () => find() is not null, say, cancellationToken);
        return find();
    }

    private static InvalidOperationException Missing(string what, string package, string resourceName) =>
        new($"{what} binaries not found: install them (Debian/Ubuntu: sudo apt-get install {package}), run with a container runtime, or point ConnectionStrings:{resourceName} at an existing server.");
}
