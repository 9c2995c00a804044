using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Platform.Hosting.Tests;

/// <summary>Small app models of local PostgreSQL and Redis, started under DCP the way the AppHost starts them.</summary>
public sealed class LocalServersTests(ITestOutputHelper output) : IDisposable
{
    private const string Password = "first-password-0123456789";
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"platform-hosting-{Guid.NewGuid():N}");

    [Fact]
    public async Task PostgresAndRedisStartAndKeepTheirDataAcrossRestarts()
    {
        await using (var app = await StartHealthyAsync())
        {
            await ExecuteAsync(await app.GetConnectionStringAsync("appdb"), "CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')");
            await using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("cache"))!);
            await redis.GetDatabase().StringSetAsync("kept", "still here");
            await app.StopAsync();
        }

        await using (var app = await StartHealthyAsync())
        {
            await using var connection = new NpgsqlConnection(await app.GetConnectionStringAsync("appdb"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT value FROM kept", connection);
            Assert.Equal("still here", await command.ExecuteScalarAsync());

            await using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("cache"))!);
            Assert.Equal("still here", (string?)await redis.GetDatabase().StringGetAsync("kept"));
            await app.StopAsync();
        }

        Assert.False(File.Exists(Path.Combine(_dataDirectory, "postgres", "data", "postmaster.pid")), "PostgreSQL did not shut down cleanly");
    }

    [Fact]
    public async Task AFolderMadeWithAnotherPasswordIsRefusedAndLeftUntouched()
    {
        await using (var first = await StartHealthyAsync())
        {
            await first.StopAsync();
        }

        var before = Snapshot(Path.Combine(_dataDirectory, "postgres"));

        await using var app = await StartAsync(postgresPassword: "another-password-0123456789");
        var failed = await WaitForStateAsync(app, "postgres", KnownResourceStates.FailedToStart);

        Assert.Equal(KnownResourceStates.FailedToStart, failed);
        Assert.Equal(before, Snapshot(Path.Combine(_dataDirectory, "postgres")));
    }

    [Fact]
    public async Task AForeignDataFolderIsRefusedAndLeftUntouched()
    {
        var data = Path.Combine(_dataDirectory, "postgres", "data");
        Directory.CreateDirectory(data);
        await File.WriteAllTextAsync(Path.Combine(data, "notes.txt"), "not PostgreSQL's");

        await using var app = await StartAsync();
        var failed = await WaitForStateAsync(app, "postgres", KnownResourceStates.FailedToStart);

        Assert.Equal(KnownResourceStates.FailedToStart, failed);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(data).Select(Path.GetFileName));
    }

    [Fact]
    public async Task AnExistingServerIsUsedAsItIsAndItsDatabasesAreCreatedOnIt()
    {
        await using var first = await StartHealthyAsync();
        var server = (await first.GetConnectionStringAsync("postgres"))!;

        await using var second = await StartHealthyAsync(extraArguments: [$"--ConnectionStrings:postgres={server}"], database: "otherdb");

        var model = second.Services.GetRequiredService<DistributedApplicationModel>();
        Assert.DoesNotContain(model.Resources, r => r is LocalPostgresServerResource);
        Assert.Equal($"{server};Database=otherdb", await second.GetConnectionStringAsync("otherdb"));
        await ExecuteAsync($"{server};Database=otherdb", "SELECT 1");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static async Task ExecuteAsync(string? connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<string?> WaitForStateAsync(DistributedApplication app, string resource, string state)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var reached = await app.ResourceNotifications.WaitForResourceAsync(resource, e => e.Snapshot.State?.Text == state || e.Snapshot.State?.Text == KnownResourceStates.Running, timeout.Token);
        return reached.Snapshot.State?.Text;
    }

    private static Dictionary<string, DateTime> Snapshot(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.GetLastWriteTimeUtc);

    private async Task<DistributedApplication> StartHealthyAsync(string[]? extraArguments = null, string database = "appdb")
    {
        var app = await StartAsync(extraArguments: extraArguments, database: database);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await app.ResourceNotifications.WaitForResourceHealthyAsync(database, timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", timeout.Token);
        return app;
    }

    private async Task<DistributedApplication> StartAsync(string postgresPassword = Password, string[]? extraArguments = null, string database = "appdb")
    {
        var builder = DistributedApplicationTestingBuilder.Create(
        [
            $"--DataServers:DataDirectory={_dataDirectory}", "--DataServers:RunAs=Process",
            $"--Parameters:postgres-password={postgresPassword}", "--Parameters:cache-password=cachepassword0123456789",
            .. extraArguments ?? [],
        ]);
        builder.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(output)));
        builder.AddPostgresServer("postgres").AddDatabase(database);
        builder.AddRedisServer("cache");
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await app.StartAsync(timeout.Token);
        return app;
    }
}
