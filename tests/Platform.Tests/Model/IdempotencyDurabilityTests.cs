using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;
using Platform.Tests.Orchestrator;
using StackExchange.Redis;

namespace Platform.Tests.Model;

/// <summary>
/// A chat call with an <c>Idempotency-Key</c> is sent upstream once through chaos: Redis restarts without the gateway's
/// state while the call is in flight on one replica, its client leaves or its replica is killed, and the repeat goes to
/// the other replica. On a platform of its own, with two gateway replicas and a request timeout (the claim's lease) of
/// 30 s, so a dead replica's lease lapses within the test.
/// </summary>
[Collection(RunDurabilityCollection.Name)]
public sealed class IdempotencyDurabilityTests(IdempotencyDurabilityPlatform platform) : IClassFixture<IdempotencyDurabilityPlatform>
{
    private static readonly TimeSpan Lease = IdempotencyDurabilityPlatform.Lease;
    private readonly PlatformApp _app = platform.App;
    private readonly FakeUpstream _upstream = platform.Upstream;

    [Fact]
    public async Task ACallWhoseClientLeftWhileRedisRestartedIsSentUpstreamOnceAndItsRepeatOnTheOtherReplicaGetsItsAnswer()
    {
        var (model, key) = await TenantAsync();
        var (first, other) = ServingReplicas();
        using var toFirst = PlatformApp.ClientFor(first.Url!, key);
        using var toOther = PlatformApp.ClientFor(other.Url!, key);
        var idempotencyKey = $"chaos-{Guid.NewGuid():N}";

        using (var leaving = new CancellationTokenSource())
        {
            var call = PostAsync(toFirst, idempotencyKey, leaving.Token);
            await WaitUntilAsync("the call to reach the upstream", TimeSpan.FromSeconds(30), () => _upstream.Calls(model) == 1);
            await RestartRedisWithoutTheGatewaysStateAsync();
            await leaving.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }

        using var whileInFlight = await PostAsync(toOther, idempotencyKey);
        _upstream.Release(model);
        using var repeat = await RepeatWhileInUseAsync(toOther, idempotencyKey);

        await AssertInUseAsync(whileInFlight);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Contains($"Hello from {model}", await repeat.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(1, _upstream.Calls(model));
    }

    [Fact]
    public async Task ACallWhoseReplicaWasKilledWhileRedisRestartedIsNeverSentUpstreamAgainAndItsRepeatLearnsTheOutcomeIsUnknown()
    {
        var (model, key) = await TenantAsync();
        var (victim, survivor) = ServingReplicas();
        using var toVictim = PlatformApp.ClientFor(victim.Url!, key);
        using var toSurvivor = PlatformApp.ClientFor(survivor.Url!, key);
        var idempotencyKey = $"chaos-{Guid.NewGuid():N}";

        var call = PostAsync(toVictim, idempotencyKey);
        await WaitUntilAsync("the call to reach the upstream", TimeSpan.FromSeconds(30), () => _upstream.Calls(model) == 1);
        await RestartRedisWithoutTheGatewaysStateAsync();
        Process.GetProcessById(victim.Pid!.Value).Kill();
        try
        {
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => call);
            using var whileLeased = await PostAsync(toSurvivor, idempotencyKey);
            using var afterLease = await RepeatWhileInUseAsync(toSurvivor, idempotencyKey);

            await AssertInUseAsync(whileLeased);
            var error = await OpenAiErrorAsync(afterLease, HttpStatusCode.Conflict);
            Assert.Equal("idempotency_key_outcome_unknown", error.GetProperty("code").GetString());
            Assert.Equal("Idempotency-Key", error.GetProperty("param").GetString());
            Assert.Null(afterLease.Headers.RetryAfter);
            Assert.Equal(1, _upstream.Calls(model));
        }
        finally
        {
            await WaitUntilAsync($"the killed {victim.Id} to show as stopped", TimeSpan.FromSeconds(30), () => _app.State(victim.Id) is not ("Running" or "Stopping"));
            await _app.RunCommandAsync(victim.Id, "start");
            await _app.WaitUntilReplicasServeAsync("model", 2);
        }
    }

    /// <summary>
    /// Redis comes back from a restart without the gateway's Idempotency-Key state, as it does without persistence, or
    /// after a failover to a replica the last writes had not reached. The rest of its data is kept: API keys and HTTP
    /// allowlists are rebuilt from PostgreSQL only every few minutes.
    /// </summary>
    private async Task RestartRedisWithoutTheGatewaysStateAsync()
    {
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(_app.ConnectionString("cache")))
        {
            var database = redis.GetDatabase();
            await foreach (var claim in redis.GetServers()[0].KeysAsync(pattern: "model:idempotency:*"))
            {
                await database.KeyDeleteAsync(claim);
            }
        }

        await _app.RunCommandAsync("cache", "restart");
        await WaitUntilRedisAnswersAsync();
    }

    /// <summary>
    /// Redis itself is asked, not the resource's health notifications: right after a restart those can still show the
    /// stopped process's state, and waiting on them once failed a run whose Redis was already accepting connections.
    /// Answering means a PONG, not a connection: while it loads its data Redis accepts connections and refuses commands.
    /// </summary>
    private async Task WaitUntilRedisAnswersAsync() =>
        await WaitUntilAsync("the restarted Redis to answer", TimeSpan.FromMinutes(1), async () =>
        {
            try
            {
                await using var redis = await ConnectionMultiplexer.ConnectAsync(_app.ConnectionString("cache"));
                await redis.GetDatabase().PingAsync();
                return true;
            }
            catch (RedisConnectionException)
            {
                return false;
            }
            catch (RedisServerException e) when (e.Message.StartsWith("LOADING", StringComparison.Ordinal))
            {
                // Accepting connections, but still reading its append-only file back: not answering yet.
                return false;
            }
        });

    private (Replica First, Replica Other) ServingReplicas()
    {
        var serving = _app.Replicas("model").Where(r => r.State == "Running").ToList();
        return (serving[0], serving[1]);
    }

    /// <summary>A new tenant whose alias <c>held</c> is a fake upstream model whose first call waits for the test.</summary>
    private async Task<(string Model, string Key)> TenantAsync()
    {
        var tenantId = $"t-{Guid.NewGuid():N}"[..20];
        string key;
        using (var admin = _app.Client("orchestrator", _app.AdminApiKey))
        {
            (await admin.PostAsJsonAsync("/v1/tenants", new { id = tenantId, name = "Idempotency chaos" })).EnsureSuccessStatusCode();
            var issued = await (await admin.PostAsJsonAsync($"/v1/tenants/{tenantId}/keys", new { name = "test", scopes = new[] { "admin" } })).Content.ReadFromJsonAsync<JsonElement>();
            key = issued.GetProperty("key").GetString()!;
        }

        await _app.GrantPrivateAsync(key, _upstream.BaseUrl);
        var model = $"held-{Guid.NewGuid():N}"[..24];
        using var gateway = _app.Client("model", key);
        (await gateway.PutAsJsonAsync("/v1/catalog/held", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "openai", baseUrl = _upstream.BaseUrl, model } },
        })).EnsureSuccessStatusCode();
        return (model, key);
    }

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = JsonContent.Create(new { model = "held", messages = new[] { new { role = "user", content = "hi" } } }),
        };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        return client.SendAsync(request, cancellationToken);
    }

    /// <summary>Repeats the request while the gateway answers that the key is in use, for at most a lease and a half.</summary>
    private static async Task<HttpResponseMessage> RepeatWhileInUseAsync(HttpClient client, string idempotencyKey)
    {
        var (response, _) = await WaitUntilAsync("the key to be no longer in use", Lease * 1.5, async () =>
        {
            var response = await PostAsync(client, idempotencyKey);
            var inUse = response.StatusCode == HttpStatusCode.Conflict
                && (await response.Content.ReadAsStringAsync()).Contains("idempotency_key_in_use", StringComparison.Ordinal);
            if (inUse)
            {
                response.Dispose();
            }

            return (Response: response, InUse: inUse);
        }, repeat => !repeat.InUse, _ => "still in use");
        return response;
    }

    private static async Task AssertInUseAsync(HttpResponseMessage response)
    {
        var error = await OpenAiErrorAsync(response, HttpStatusCode.Conflict);
        Assert.Equal("idempotency_key_in_use", error.GetProperty("code").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
    }

    private static async Task<JsonElement> OpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        using var document = JsonDocument.Parse(body);
        return document.RootElement.GetProperty("error").Clone();
    }
}

/// <summary>
/// The platform of <see cref="IdempotencyDurabilityTests"/>, started once for all of them: each test uses a tenant and
/// a fake model of its own and leaves both gateway replicas serving, so none sees what another did.
/// </summary>
public sealed class IdempotencyDurabilityPlatform : IAsyncLifetime
{
    public static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);
    private PlatformApp? _app;
    private FakeUpstream? _upstream;

    public PlatformApp App => _app ?? throw new InvalidOperationException("Not started.");

    public FakeUpstream Upstream => _upstream ?? throw new InvalidOperationException("Not started.");

    public async Task InitializeAsync()
    {
        _app = await PlatformApp.StartAsync([("model", "ModelGateway:TotalTimeout", Lease.ToString())], "Replicas:model=2");
        await _app.WaitUntilReplicasServeAsync("model", 2);
        _upstream = await FakeUpstream.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }

        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}
