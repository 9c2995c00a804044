using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;
using Npgsql;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Tests;

public sealed class LocalRunnerTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), $"platform-hosting-{Guid.NewGuid():N}");
    private readonly StringWriter _output = new();

    [Fact]
    public async Task PostgresAndRedisStartAndKeepTheirDataAcrossRestarts()
    {
        await using (var app = BuildServers().Build())
        {
            await app.StartAsync();
            await using var connection = new NpgsqlConnection(app.GetConnectionString("appdb"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("CREATE TABLE kept (value text); INSERT INTO kept VALUES ('still here')", connection);
            await command.ExecuteNonQueryAsync();
            using var redis = await ConnectionMultiplexer.ConnectAsync(app.GetConnectionString("cache"));
            Assert.True(await redis.GetDatabase().StringSetAsync("kept", "still-here"));
        }

        await using (var app = BuildServers().Build())
        {
            await app.StartAsync();
            await using var connection = new NpgsqlConnection(app.GetConnectionString("appdb"));
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT value FROM kept", connection);
            Assert.Equal("still here", await command.ExecuteScalarAsync());
            using var redis = await ConnectionMultiplexer.ConnectAsync(app.GetConnectionString("cache"));
            Assert.Equal("still-here", (string?)await redis.GetDatabase().StringGetAsync("kept"));
        }
    }

    [Fact]
    public async Task GeneratedPasswordsAreKeptOwnerOnlyAndReused()
    {
        var first = BuildServers().Build();
        await using (first)
        {
            await first.StartAsync();
        }

        var parameters = Path.Combine(_state, "parameters.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(parameters));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_state, "state.json")));
        await using var second = BuildServers().Build();
        await second.StartAsync();
        Assert.Equal(first.GetParameterValue("postgres-password"), second.GetParameterValue("postgres-password"));
        Assert.DoesNotContain(',', second.GetParameterValue("cache-password"));
    }

    [Fact]
    public async Task TakenPortIsAClearError()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        await using var app = BuildServers($"--Ports:postgres={port}").Build();
        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains($"Port {port} for 'postgres' is already in use", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForeignDataFolderIsRefusedAndLeftUntouched()
    {
        var foreign = Path.Combine(_state, "postgres", "data", "precious.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(foreign)!);
        await File.WriteAllTextAsync(foreign, "not a database");

        await using var app = BuildServers().Build();
        var error = await Assert.ThrowsAsync<DistributedApplicationException>(() => app.StartAsync());

        Assert.Contains("is not a PostgreSQL data folder", error.Message, StringComparison.Ordinal);
        Assert.Equal("not a database", await File.ReadAllTextAsync(foreign));
    }

    [Fact]
    public async Task ExistingConnectionStringMeansNoServerIsStarted()
    {
        await using var app = BuildServers("--ConnectionStrings:cache=localhost:1,password=x").Build();
        await app.StartAsync();

        Assert.Equal("localhost:1,password=x", app.GetConnectionString("cache"));
        Assert.Throws<KeyNotFoundException>(() => app.GetState("cache"));
        Assert.Equal(ResourceState.Running, app.GetState("appdb"));
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_state, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was created.
        }
    }

    private DistributedApplicationBuilder BuildServers(params string[] arguments)
    {
        var builder = DistributedApplication.CreateBuilder(
            [$"--StateDirectory={_state}", "--Ports:postgres=0", "--Ports:cache=0", .. arguments],
            new DistributedApplicationOptions { Output = _output });
        builder.AddPostgres("postgres").AddDatabase("appdb");
        builder.AddRedis("cache");
        return builder;
    }
}
