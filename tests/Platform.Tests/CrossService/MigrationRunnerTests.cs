using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.Tests.CrossService;

[Collection(PlatformCollection.Name)]
public sealed class MigrationRunnerTests(PlatformFixture platform)
{
    private static readonly MigrationSource TestMigrations = new(typeof(MigrationRunnerTests).Assembly);

    [Fact]
    public async Task ReplicasStartingTogetherApplyEachMigrationOnce()
    {
        await using var dataSource = await NewDatabaseAsync();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ =>
            Task.Run(() => new MigrationRunner(dataSource, TestMigrations, NullLogger<MigrationRunner>.Instance).StartAsync(CancellationToken.None))));

        await using var connection = await dataSource.OpenConnectionAsync();
        Assert.Equal(["0001_counters", "0002_seed_counter"], await connection.QueryAsync<string>("SELECT id FROM schema_migrations ORDER BY id"));
        Assert.Equal(1L, await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM counters"));
    }

    [Fact]
    public async Task AnAppliedMigrationThatChangedStopsStartUp()
    {
        await using var dataSource = await NewDatabaseAsync();
        await new MigrationRunner(dataSource, TestMigrations, NullLogger<MigrationRunner>.Instance).StartAsync(CancellationToken.None);
        await using (var connection = await dataSource.OpenConnectionAsync())
        {
            await connection.ExecuteAsync("UPDATE schema_migrations SET checksum = 'edited' WHERE id = '0001_counters'");
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            new MigrationRunner(dataSource, TestMigrations, NullLogger<MigrationRunner>.Instance).StartAsync(CancellationToken.None));

        Assert.Contains("0001_counters was changed", error.Message, StringComparison.Ordinal);
    }

    private async Task<NpgsqlDataSource> NewDatabaseAsync()
    {
        var name = $"migrations_{Guid.NewGuid():N}";
        var server = platform.AppHost.ConnectionString("postgres");
        await using (var connection = new NpgsqlConnection(server + ";Database=postgres"))
        {
            await connection.OpenAsync();
            await connection.ExecuteAsync($"CREATE DATABASE {name}");
        }

        return NpgsqlDataSource.Create($"{server};Database={name}");
    }
}
