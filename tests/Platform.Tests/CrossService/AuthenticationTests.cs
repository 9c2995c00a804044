using System.Net;
using System.Net.Http.Json;

namespace Platform.Tests.CrossService;

[Collection(PlatformCollection.Name)]
public sealed class AuthenticationTests(PlatformFixture platform)
{
    private static readonly (string Service, string Path)[] ProtectedEndpoints =
    [
        ("orchestrator", "/v1/me"),
        ("planning", "/v1/plans"),
        ("model", "/v1/models"),
        ("tool", "/v1/tools"),
        ("dashboard", "/api/status"),
    ];

    [Fact]
    public async Task EveryServiceRejectsARequestWithoutAKeyInItsErrorShape()
    {
        foreach (var (service, path) in ProtectedEndpoints)
        {
            using var client = platform.AppHost.Client(service);
            using var response = await client.GetAsync(path);

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
            if (service == "model")
            {
                // The gateway speaks OpenAI's protocol, errors included, so OpenAI clients can read them.
                using var error = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.Equal("invalid_api_key", error.RootElement.GetProperty("error").GetProperty("code").GetString());
            }
            else
            {
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
    }

    [Fact]
    public async Task EveryServiceAcceptsTheAdminKeyAndRejectsAnUnknownOne()
    {
        foreach (var (service, path) in ProtectedEndpoints)
        {
            using var admin = platform.Admin(service);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync(path)).StatusCode);

            using var stranger = platform.AppHost.Client(service, "plt_notARealKeyAtAll000000000000000");
            Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync(path)).StatusCode);
        }
    }

    [Fact]
    public async Task ARevokedKeyStopsWorkingAtEveryServiceWithinFiveSeconds()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        foreach (var (service, path) in ProtectedEndpoints)
        {
            using var client = platform.AppHost.Client(service, key);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
        }

        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var me = await orchestrator.GetFromJsonAsync<Me>("/v1/me");
        using var revoke = await platform.Admin("orchestrator").DeleteAsync($"/v1/tenants/{tenantId}/keys/{me!.KeyId}");
        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);

        var stillAccepted = ProtectedEndpoints.ToList();
        await WaitUntilAsync("every service to refuse the revoked key", TimeSpan.FromSeconds(5), async () =>
        {
            var results = await Task.WhenAll(stillAccepted.Select(async e =>
            {
                using var client = platform.AppHost.Client(e.Service, key);
                return (Endpoint: e, Status: (await client.GetAsync(e.Path)).StatusCode);
            }));
            stillAccepted = [.. results.Where(r => r.Status != HttpStatusCode.Unauthorized).Select(r => r.Endpoint)];
            return stillAccepted;
        }, accepting => accepting.Count == 0, accepting => $"still accepted by {string.Join(", ", accepting.Select(e => $"{e.Service} {e.Path}"))}");
    }

    [Fact]
    public async Task AKeyOnlyReachesEndpointsOfItsScopes()
    {
        var (_, key) = await platform.NewTenantAsync("plans");

        using var planning = platform.AppHost.Client("planning", key);
        using var tool = platform.AppHost.Client("tool", key);
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        Assert.Equal(HttpStatusCode.OK, (await planning.GetAsync("/v1/plans")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tool.GetAsync("/v1/tools")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await orchestrator.GetAsync("/v1/tenants")).StatusCode);
    }

    [Fact]
    public async Task AnExpiredKeyIsRejected()
    {
        var (tenantId, _) = await platform.NewTenantAsync("admin");
        using var admin = platform.Admin("orchestrator");
        var expiresAt = DateTimeOffset.UtcNow.AddSeconds(2);
        var response = await admin.PostAsJsonAsync($"/v1/tenants/{tenantId}/keys", new { name = "short-lived", scopes = new[] { "plans" }, expiresAt });
        response.EnsureSuccessStatusCode();
        var key = (await response.Content.ReadFromJsonAsync<Issued>())!.Key;
        using var planning = platform.AppHost.Client("planning", key);
        Assert.Equal(HttpStatusCode.OK, (await planning.GetAsync("/v1/plans")).StatusCode);

        // Refused within a second of its expiry: the bound the fixed three-second wait after the first call gave.
        await WaitUntilAsync("the expired key to be refused", expiresAt - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(1),
            async () => (await planning.GetAsync("/v1/plans")).StatusCode, status => status == HttpStatusCode.Unauthorized, status => $"{(int)status}");
    }

    [Fact]
    public async Task KeysAreStoredOnlyAsHashes()
    {
        var (tenantId, key) = await platform.NewTenantAsync("plans");

        await using var connection = new Npgsql.NpgsqlConnection(platform.AppHost.ConnectionString("orchestratordb"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM api_keys WHERE tenant_id = $1 AND key_hash = encode(sha256(convert_to($2, 'UTF8')), 'hex')", connection)
        {
            Parameters = { new() { Value = tenantId }, new() { Value = key } },
        };
        await using var plain = new Npgsql.NpgsqlCommand(
            "SELECT count(*) FROM api_keys WHERE position($1 in key_hash || name || key_prefix) > 0", connection)
        {
            Parameters = { new() { Value = key } },
        };

        Assert.Equal(1L, await command.ExecuteScalarAsync());
        Assert.Equal(0L, await plain.ExecuteScalarAsync());
    }

    private sealed record Me(string TenantId, string KeyId, string[] Scopes);

    private sealed record Issued(string Key);
}
