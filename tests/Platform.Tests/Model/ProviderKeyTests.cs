using System.Net;
using System.Net.Http.Json;
using Npgsql;

namespace Platform.Tests.Model;

/// <summary>
/// Provider keys in tenants' aliases are stored encrypted, never shown, decrypted only to call the upstream; keys
/// stored in plaintext before are encrypted when the gateway starts.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ProviderKeyTests(PlatformFixture platform) : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task AKeyIsStoredEncryptedNeverShownAndSentToTheUpstreamAsWritten()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);
        var (apiKey, model) = ($"sk-test-plaintext-{Guid.NewGuid():N}", $"ok-{Guid.NewGuid():N}"[..20]);
        using var client = platform.AppHost.Client("model", key);

        using var put = await client.PutAsJsonAsync("/v1/catalog/secret", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "openai", baseUrl = _upstream.BaseUrl, apiKey, model } },
        });
        var listed = await client.GetStringAsync("/v1/catalog");
        var stored = await StoredDeploymentsAsync(tenantId, "secret");
        using var chat = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "secret", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.DoesNotContain(apiKey, await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(apiKey, listed, StringComparison.Ordinal);
        Assert.Contains("\"hasApiKey\":true", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(apiKey, stored, StringComparison.Ordinal);
        Assert.DoesNotContain("sk-test-plaintext", stored, StringComparison.Ordinal);
        Assert.Contains("enc:v1:", stored, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal($"Bearer {apiKey}", _upstream.Authorization(model));
    }

    [Fact]
    public async Task AKeyStoredInPlaintextBeforeIsUsedAndEncryptedWhenTheGatewayStarts()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);
        var (apiKey, model) = ($"sk-legacy-{Guid.NewGuid():N}", $"ok-{Guid.NewGuid():N}"[..20]);
        await ExecuteAsync("INSERT INTO model_aliases (tenant_id, alias, strategy, deployments) VALUES ($1, 'legacy', 'ordered', $2::jsonb)",
            tenantId, $$"""[{"name":"legacy/0","provider":"openai","baseUrl":"{{_upstream.BaseUrl}}","apiKey":"{{apiKey}}","model":"{{model}}"}]""");
        using var client = platform.AppHost.Client("model", key);

        using var before = await ChatAsync(client);
        Assert.Equal($"Bearer {apiKey}", _upstream.Authorization(model));

        await RestartGatewayAsync();
        var stored = await WaitUntilAsync("the restarted gateway to encrypt the stored key", TimeSpan.FromSeconds(30), () => StoredDeploymentsAsync(tenantId, "legacy"),
            deployments => !deployments.Contains(apiKey, StringComparison.Ordinal), _ => "still in plaintext");
        using var after = await ChatAsync(client);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.DoesNotContain(apiKey, stored, StringComparison.Ordinal);
        Assert.Contains("enc:v1:", stored, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.Equal($"Bearer {apiKey}", _upstream.Authorization(model));
        Assert.Equal(2, _upstream.Calls(model));
    }

    private static Task<HttpResponseMessage> ChatAsync(HttpClient client) =>
        client.PostAsJsonAsync("/v1/chat/completions", new { model = "legacy", messages = new[] { new { role = "user", content = "hi" } } });

    /// <summary>Stops and starts every gateway replica, one at a time, so each runs its start-up work again.</summary>
    private async Task RestartGatewayAsync()
    {
        foreach (var replica in platform.AppHost.Replicas("model"))
        {
            await platform.AppHost.RunCommandAsync(replica.Id, "stop");
            await WaitUntilAsync($"{replica.Id} to stop", TimeSpan.FromSeconds(30), () => platform.AppHost.State(replica.Id) is not ("Running" or "Stopping"));
            await platform.AppHost.RunCommandAsync(replica.Id, "start");
        }

        await platform.AppHost.WaitUntilReplicasServeAsync("model", 2);
    }

    private async Task<string> StoredDeploymentsAsync(string tenantId, string alias)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("modeldb"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT deployments::text FROM model_aliases WHERE tenant_id = $1 AND alias = $2", connection)
        {
            Parameters = { new() { Value = tenantId }, new() { Value = alias } },
        };
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("modeldb"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }
}
