using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dapper;
using Npgsql;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Platform.Tests.CrossService;

/// <summary>
/// The restore drill: deploy/backup/backup.sh against the running platform, more writes, then restore.sh into a fresh
/// PostgreSQL server and the Redis snapshot into a fresh Redis, and check that what was backed up is there and what
/// came later is not. Prints the recovery time it took.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class BackupDrillTests(PlatformFixture platform, ITestOutputHelper output)
{
    private static readonly string Scripts = Path.Combine(AppContext.BaseDirectory, "Deploy");

    [Fact]
    public async Task AnOwnerOnlyBackupRestoresIntoFreshServersWithWhatItHeldAndNothingWrittenAfter()
    {
        var workspace = Directory.CreateTempSubdirectory("platform-drill-").FullName;
        try
        {
            var (before, _) = await platform.NewTenantAsync("runs");
            var marker = $"drill:{Guid.NewGuid():N}";
            var (redisHost, redisPort, redisPassword) = RedisEndpoint(platform.AppHost.ConnectionString("cache"));
            using (var redis = await ConnectionMultiplexer.ConnectAsync(platform.AppHost.ConnectionString("cache")))
            {
                await redis.GetDatabase().StringSetAsync(marker, "backed up");
            }

            var source = new NpgsqlConnectionStringBuilder(platform.AppHost.ConnectionString("orchestratordb"));
            var backingUp = Stopwatch.StartNew();
            var backup = (await RunAsync("backup.sh", [Path.Combine(workspace, "backups")], new()
            {
                ["PGHOST"] = source.Host!, ["PGPORT"] = source.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["PGUSER"] = source.Username!, ["PGPASSWORD"] = source.Password!,
                ["REDIS_HOST"] = redisHost, ["REDIS_PORT"] = redisPort, ["REDIS_PASSWORD"] = redisPassword,
            })).Trim();
            output.WriteLine($"Backed up 4 databases and Redis in {backingUp.Elapsed.TotalSeconds:0.0} s.");
            OwnerOnlyFiles.Assert(Path.Combine(workspace, "backups"), backup);
            var (after, _) = await platform.NewTenantAsync("runs");

            var restoring = Stopwatch.StartNew();
            await using var postgres = await FreshPostgres.StartAsync(Path.Combine(workspace, "postgres"));
            await RunAsync("restore.sh", [backup], new()
            {
                ["PGHOST"] = "127.0.0.1", ["PGPORT"] = postgres.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), ["PGUSER"] = "platform",
            });
            var postgresRestored = restoring.Elapsed;
            using var freshRedis = await FreshRedis.StartAsync(Path.Combine(backup, "redis.rdb"), Path.Combine(workspace, "redis"));
            output.WriteLine($"Restored PostgreSQL (4 databases) into a fresh server in {postgresRestored.TotalSeconds:0.0} s, Redis in {(restoring.Elapsed - postgresRestored).TotalSeconds:0.0} s more.");

            await using (var restored = new NpgsqlConnection($"Host=127.0.0.1;Port={postgres.Port};Username=platform;Database=orchestratordb;Pooling=false"))
            {
                Assert.Equal(1, await restored.ExecuteScalarAsync<int>("SELECT count(*) FROM tenants WHERE id = @before", new { before }));
                Assert.Equal(0, await restored.ExecuteScalarAsync<int>("SELECT count(*) FROM tenants WHERE id = @after", new { after }));
            }

            foreach (var database in new[] { "modeldb", "planningdb", "tooldb" })
            {
                await using var restored = new NpgsqlConnection($"Host=127.0.0.1;Port={postgres.Port};Username=platform;Database={database};Pooling=false");
                Assert.True(await restored.ExecuteScalarAsync<int>("SELECT count(*) FROM schema_migrations") > 0, database);
            }

            using var redisRestored = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{freshRedis.Port}");
            Assert.Equal("backed up", (string?)await redisRestored.GetDatabase().StringGetAsync(marker));
        }
        finally
        {
            Directory.Delete(workspace, recursive: true);
        }
    }

    private static (string Host, string Port, string Password) RedisEndpoint(string connectionString)
    {
        var options = ConfigurationOptions.Parse(connectionString);
        var endpoint = options.EndPoints.Single();
        var (host, port) = endpoint switch
        {
            DnsEndPoint dns => (dns.Host, dns.Port),
            IPEndPoint ip => (ip.Address.ToString(), ip.Port),
            _ => throw new InvalidOperationException($"Unexpected endpoint {endpoint}"),
        };
        return (host, port.ToString(System.Globalization.CultureInfo.InvariantCulture), options.Password ?? "");
    }

    private static async Task<string> RunAsync(string script, string[] arguments, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(Scripts, script), .. arguments]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return await Processes.RunAsync(start);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static class Processes
    {
        public static async Task<string> RunAsync(ProcessStartInfo start)
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, $"{start.FileName} {string.Join(' ', start.ArgumentList)} exited {process.ExitCode}: {await stderr} {await stdout}");
            return await stdout;
        }
    }

    /// <summary>A new PostgreSQL cluster (trust authentication for user <c>platform</c>), run as the postgres user under root.</summary>
    private sealed class FreshPostgres(string data, string bin, int port) : IAsyncDisposable
    {
        public int Port => port;

        public static async Task<FreshPostgres> StartAsync(string data)
        {
            var bin = Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin"))
                .Where(b => File.Exists(Path.Combine(b, "initdb"))).OrderBy(b => int.Parse(Path.GetFileName(Path.GetDirectoryName(b))!, System.Globalization.CultureInfo.InvariantCulture)).Last();
            Directory.CreateDirectory(data);
            if (Environment.IsPrivilegedProcess)
            {
                await Processes.RunAsync(new ProcessStartInfo("chown", ["-R", "postgres:postgres", Path.GetDirectoryName(data)!]) { RedirectStandardOutput = true, RedirectStandardError = true });
            }

            var port = FreePort();
            await Processes.RunAsync(AsServerUser(Path.Combine(bin, "initdb"), ["-D", data, "-U", "platform", "--auth=trust", "-E", "UTF8", "--no-sync"]));
            await Processes.RunAsync(AsServerUser(Path.Combine(bin, "pg_ctl"),
                ["-D", data, "-w", "-l", Path.Combine(data, "server.log"), "-o", $"-p {port} -k {data} -c listen_addresses=127.0.0.1", "start"]));
            return new FreshPostgres(data, bin, port);
        }

        public async ValueTask DisposeAsync() =>
            await Processes.RunAsync(AsServerUser(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]));

        private static ProcessStartInfo AsServerUser(string program, string[] arguments) => new(
            Environment.IsPrivilegedProcess ? "setpriv" : program,
            Environment.IsPrivilegedProcess ? ["--reuid", "postgres", "--regid", "postgres", "--init-groups", "--", program, .. arguments] : arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
    }

    /// <summary>A new Redis server whose data is a copy of a backup's snapshot.</summary>
    private sealed class FreshRedis(Process server, int port) : IDisposable
    {
        public int Port => port;

        public static async Task<FreshRedis> StartAsync(string snapshot, string folder)
        {
            Directory.CreateDirectory(folder);
            File.Copy(snapshot, Path.Combine(folder, "dump.rdb"));
            var port = FreePort();
            var server = Process.Start(new ProcessStartInfo("redis-server",
                ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", folder, "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            try
            {
                await WaitUntilAsync("the fresh Redis server to accept connections", TimeSpan.FromSeconds(10), async () =>
                {
                    try
                    {
                        using var probe = new TcpClient();
                        await probe.ConnectAsync(IPAddress.Loopback, port);
                        return true;
                    }
                    catch (SocketException)
                    {
                        return false;
                    }
                });
            }
            catch (TimeoutException)
            {
                server.Kill();
                throw;
            }

            return new FreshRedis(server, port);
        }

        public void Dispose()
        {
            server.Kill();
            server.WaitForExit();
            server.Dispose();
        }
    }
}
