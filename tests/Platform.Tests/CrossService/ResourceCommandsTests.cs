using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Npgsql;

namespace Platform.Tests.CrossService;

/// <summary>The commands the Aspire dashboard offers on our resources, run the way the dashboard runs them.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ResourceCommandsTests(PlatformFixture platform)
{
    [Fact]
    public async Task BackUpWritesOwnerOnlyDumpsThatRestoreLatestBringsBackWhatWasDeletedSince()
    {
        var table = $"marker_{Guid.NewGuid():N}";
        await ExecuteAsync($"CREATE TABLE {table} (value text); INSERT INTO {table} VALUES ('backed up')");

        var backup = await platform.AppHost.App.ResourceCommands.ExecuteCommandAsync("postgres", PostgresBackupCommands.BackUp);
        Assert.True(backup.Success, backup.Message);
        var backups = Path.Combine(platform.AppHost.DataDirectory, "backups");
        var folder = Directory.GetDirectories(Path.Combine(backups, "postgres")).Order(StringComparer.Ordinal).Last();
        Assert.Equal(["modeldb.dump", "orchestratordb.dump", "planningdb.dump", "tooldb.dump"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        OwnerOnlyFiles.Assert(backups, Path.Combine(backups, "postgres"), folder);

        await ExecuteAsync($"DELETE FROM {table}");
        var restore = await platform.AppHost.App.ResourceCommands.ExecuteCommandAsync("postgres", PostgresBackupCommands.RestoreLatest);

        Assert.True(restore.Success, restore.Message);
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("tooldb"));
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand($"SELECT value FROM {table}", connection);
        Assert.Equal("backed up", await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task IssueAdminKeyShowsANewSystemAdminKeyOnce()
    {
        var result = await platform.AppHost.App.ResourceCommands.ExecuteCommandAsync(platform.AppHost.Replicas("orchestrator")[0].Id, "issue-admin-key");

        Assert.True(result.Success, result.Message);
        var key = result.Data!.Value;
        Assert.NotEqual(platform.AppHost.AdminApiKey, key);
        using var client = platform.AppHost.Client("orchestrator", key);
        using var me = JsonDocument.Parse(await client.GetStringAsync("/v1/me"));
        Assert.Equal("system", me.RootElement.GetProperty("tenantId").GetString());
        Assert.Contains("admin", me.RootElement.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        using var admin = platform.Admin("orchestrator");
        var keys = await admin.GetFromJsonAsync<JsonElement>("/v1/tenants/system/keys");
        Assert.DoesNotContain(key, keys.GetRawText(), StringComparison.Ordinal);
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("tooldb"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
