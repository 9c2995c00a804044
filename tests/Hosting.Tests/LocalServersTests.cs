using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Platform.Hosting.Tests;

public sealed class LocalServersTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), $"platform-hosting-{Guid.NewGuid():N}");

    [Fact]
    public async Task PostgresAndRedisStartAndKeepTheirDataAcrossRestarts()
    {
        await using (var app = await StartAsync())
        {
            await using var connection = new NpgsqlConnection(await app.GetConnectionStringAsync("appdb"));
            await connection.OpenAsync();
            await using (var command = new NpgsqlCommand("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')", connection))
            {
                await command.ExecuteNonQueryAsync();
            }

            await using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("cache"))!);
            await redis.GetDatabase().StringSetAsync("kept", "still here");
        }

        await using (var app = await StartAsync())
        {
            await using var connection = new NpgsqlConnection(await app.GetConnectionStringAsync("appdb"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT value FROM kept", connection);
            Assert.Equal("still here", await command.ExecuteScalarAsync());

            await using var redis = await ConnectionMultiplexer.ConnectAsync((await app.GetConnectionStringAsync("cache"))!);
            Assert.Equal("still here", (string?)await redis.GetDatabase().StringGetAsync("kept"));
        }
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

    private async Task<DistributedApplication> StartAsync(string postgresPassword = "first-password-0123456789")
    {
        var builder = DistributedApplicationTestingBuilder.Create(
            $"--DataServers:DataDirectory={_dataDirectory}", "--DataServers:RunAs=Process",
            $"--Parameters:postgres-password={postgresPassword}", "--Parameters:cache-password=cachepassword0123456789");
        builder.Services.AddLogging(logging => logging.AddProvider(new TestOutputLoggerProvider(output)));
        var postgres = builder.AddPostgresServer("postgres");
        postgres.AddDatabase("appdb");
        builder.AddRedisServer("cache");
        var app = await builder.BuildAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await app.StartAsync(timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("appdb", timeout.Token);
        await app.ResourceNotifications.WaitForResourceHealthyAsync("cache", timeout.Token);
        return app;
    }
}
