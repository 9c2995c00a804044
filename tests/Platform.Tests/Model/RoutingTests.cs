using System.ClientModel;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Platform.Tests.Model;

/// <summary>Fallbacks, retries, timeouts and cooldowns against a fake OpenAI-compatible upstream.</summary>
[Collection(PlatformCollection.Name)]
public sealed class RoutingTests(PlatformFixture platform) : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task ARateLimitedDeploymentFallsBackAndCoolsDownForLaterRequests()
    {
        var (limited, ok) = (Unique("limited"), Unique("ok"));
        var client = await ClientForAliasAsync(limited, ok);

        ChatCompletion first = await client.CompleteChatAsync([new UserChatMessage("hi")]);
        ChatCompletion second = await client.CompleteChatAsync([new UserChatMessage("hi again")]);

        Assert.Equal($"Hello from {ok}", first.Content[0].Text);
        Assert.Equal($"Hello from {ok}", second.Content[0].Text);
        Assert.Equal(1, _upstream.Calls(limited));
        Assert.Equal(2, _upstream.Calls(ok));
    }

    [Fact]
    public async Task TheCatalogShowsUntilWhenAFailingDeploymentCoolsDown()
    {
        var (limited, ok) = (Unique("limited"), Unique("ok"));
        var (alias, key) = await AliasAsync([(limited, null), (ok, null)]);
        var client = new ChatClient(alias, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") });
        using var model = platform.AppHost.Client("model", key);
        var before = DateTimeOffset.UtcNow;

        await client.CompleteChatAsync([new UserChatMessage("hi")]);
        var deployments = (await model.GetFromJsonAsync<JsonElement>("/v1/catalog")).EnumerateArray()
            .Single(a => a.GetProperty("alias").GetString() == alias).GetProperty("deployments").EnumerateArray().ToList();

        var until = deployments[0].GetProperty("cooldownUntil").GetDateTimeOffset();
        Assert.InRange(until, before, DateTimeOffset.UtcNow.AddSeconds(31));
        Assert.Equal(JsonValueKind.Null, deployments[1].GetProperty("cooldownUntil").ValueKind);
    }

    [Fact]
    public async Task ATenantFailingOnAnotherTenantsUpstreamAndModelCoolsDownOnlyItsOwnDeployment()
    {
        // Both tenants reach the same upstream URL and model; the attacker's attempt timeout is one its calls always exceed.
        var (shared, fallback) = (Unique("slow"), Unique("ok"));
        var (victimAlias, victimKey) = await AliasAsync([(shared, null), (fallback, null)]);
        var (attackerAlias, attackerKey) = await AliasAsync([(shared, TimeSpan.FromSeconds(1))]);
        using var attacker = platform.AppHost.Client("model", attackerKey);
        using var victim = platform.AppHost.Client("model", victimKey);

        using var failed = await attacker.PostAsJsonAsync("/v1/chat/completions", new { model = attackerAlias, messages = new[] { new { role = "user", content = "hi" } } });
        using var answered = await victim.PostAsJsonAsync("/v1/chat/completions", new { model = victimAlias, messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.GatewayTimeout, failed.StatusCode);
        Assert.Equal(JsonValueKind.String, (await CooldownsAsync(attacker, attackerAlias))[0].ValueKind);
        Assert.Equal(HttpStatusCode.OK, answered.StatusCode);
        Assert.Equal($"{victimAlias}/0", answered.Headers.GetValues("x-platform-deployment").Single());
        Assert.All(await CooldownsAsync(victim, victimAlias), until => Assert.Equal(JsonValueKind.Null, until.ValueKind));
        Assert.Equal(0, _upstream.Calls(fallback));
    }

    [Fact]
    public async Task ARetryWaitsForRetryAfterOnTheSameDeployment()
    {
        var flaky = Unique("flaky");
        var client = await ClientForAliasAsync(flaky);
        var stopwatch = Stopwatch.StartNew();

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal($"Hello from {flaky}", completion.Content[0].Text);
        Assert.Equal(2, _upstream.Calls(flaky));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(0.9), $"retried after {stopwatch.Elapsed}");
    }

    [Fact]
    public async Task AContextWindowErrorFallsBackWithoutRetrying()
    {
        var (tooLong, ok) = (Unique("toolong"), Unique("ok"));
        var client = await ClientForAliasAsync(tooLong, ok);

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("a long prompt")]);

        Assert.Equal($"Hello from {ok}", completion.Content[0].Text);
        Assert.Equal(1, _upstream.Calls(tooLong));
    }

    [Fact]
    public async Task ASlowDeploymentTimesOutAndTheNextAnswers()
    {
        var (slow, ok) = (Unique("slow"), Unique("ok"));
        var client = await ClientForAliasAsync([(slow, TimeSpan.FromSeconds(1)), (ok, null)]);

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal($"Hello from {ok}", completion.Content[0].Text);
    }

    [Fact]
    public async Task WhenEveryDeploymentFailsTheErrorIs502NamingThem()
    {
        var (broken, limited) = (Unique("broken"), Unique("limited"));
        var (alias, key) = await AliasAsync([(broken, null), (limited, null)]);
        using var http = platform.AppHost.Client("model", key);

        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new { model = alias, messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var message = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString()!;
        Assert.Contains($"{alias}/0 answered 500", message, StringComparison.Ordinal);
        Assert.Contains($"{alias}/1 answered 429", message, StringComparison.Ordinal);
        Assert.Equal(3, _upstream.Calls(broken));
    }

    [Fact]
    public async Task WhenEveryDeploymentTimesOutTheErrorIs504()
    {
        var (alias, key) = await AliasAsync([(Unique("slow"), TimeSpan.FromSeconds(1))]);
        using var http = platform.AppHost.Client("model", key);

        using var response = await http.PostAsJsonAsync("/v1/chat/completions", new { model = alias, messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task AStreamFallsBackBeforeItStarts()
    {
        var (broken, ok) = (Unique("broken"), Unique("ok"));
        var client = await ClientForAliasAsync(broken, ok);

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            text.AppendJoin("", update.ContentUpdate.Select(p => p.Text));
            usage = update.Usage ?? usage;
        }

        Assert.Equal($"Hello from {ok}", text.ToString());
        Assert.Equal(4, usage?.OutputTokenCount);
    }

    [Fact]
    public async Task AStreamThatBreaksAfterStartingIsNeverRetried()
    {
        var (breaks, ok) = (Unique("breaks"), Unique("ok"));
        var (alias, key) = await AliasAsync([(breaks, null), (ok, null)]);
        using var http = platform.AppHost.Client("model", key);

        using var response = await http.PostAsJsonAsync("/v1/chat/completions",
            new { model = alias, stream = true, messages = new[] { new { role = "user", content = "hi" } } });
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(1, _upstream.Calls(breaks));
        Assert.Equal(0, _upstream.Calls(ok));
        Assert.Contains("mid-stream", body, StringComparison.Ordinal);
        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWeightedAliasSendsMostRequestsToTheHeavierDeployment()
    {
        var (heavy, light) = (Unique("ok"), Unique("ok"));
        var client = await ClientForAliasAsync([(heavy, null, 9), (light, null, 1)], "weighted");

        for (var i = 0; i < 40; i++)
        {
            await client.CompleteChatAsync([new UserChatMessage($"hi {i}")]);
        }

        Assert.Equal(40, _upstream.Calls(heavy) + _upstream.Calls(light));
        Assert.InRange(_upstream.Calls(heavy), 28, 40);
    }

    [Fact]
    public async Task ALowestLatencyAliasLearnsWhichDeploymentIsFaster()
    {
        var (lagging, fast) = (Unique("lag"), Unique("ok"));
        var client = await ClientForAliasAsync([(lagging, null, 1), (fast, null, 1)], "lowest-latency");

        for (var i = 0; i < 10; i++)
        {
            await client.CompleteChatAsync([new UserChatMessage($"hi {i}")]);
        }

        Assert.True(_upstream.Calls(fast) >= 8, $"fast {_upstream.Calls(fast)}, lagging {_upstream.Calls(lagging)}");
    }

    [Fact]
    public async Task AnUnreadableUpstreamAnswerFallsBackInsteadOfFailingTheClient()
    {
        var (garbage, ok) = (Unique("garbage"), Unique("ok"));
        var client = await ClientForAliasAsync(garbage, ok);

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal($"Hello from {ok}", completion.Content[0].Text);
        Assert.True(_upstream.Calls(garbage) >= 1);
    }

    [Fact]
    public async Task AMalformedCatalogEntryIsA400()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var model = platform.AppHost.Client("model", key);

        using var response = await model.PutAsync("/v1/catalog/bad",
            new StringContent("""{"strategy":"ordered","deployments":[null]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>Each deployment's <c>cooldownUntil</c> in the caller's catalog.</summary>
    private static async Task<List<JsonElement>> CooldownsAsync(HttpClient model, string alias) =>
        (await model.GetFromJsonAsync<JsonElement>("/v1/catalog")).EnumerateArray().Single(a => a.GetProperty("alias").GetString() == alias)
            .GetProperty("deployments").EnumerateArray().Select(d => d.GetProperty("cooldownUntil").Clone()).ToList();

    private static string Unique(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}"[..20];

    private Task<ChatClient> ClientForAliasAsync(params string[] models) => ClientForAliasAsync(models.Select(m => (m, (TimeSpan?)null)).ToArray());

    private Task<ChatClient> ClientForAliasAsync((string Model, TimeSpan? Timeout)[] deployments) =>
        ClientForAliasAsync(deployments.Select(d => (d.Model, d.Timeout, 1)).ToArray(), "ordered");

    private async Task<ChatClient> ClientForAliasAsync((string Model, TimeSpan? Timeout, int Weight)[] deployments, string strategy)
    {
        var (alias, key) = await AliasAsync(deployments, strategy);
        return new ChatClient(alias, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") });
    }

    /// <summary>A new tenant with an alias over the given fake models, in order.</summary>
    private Task<(string Alias, string Key)> AliasAsync((string Model, TimeSpan? Timeout)[] deployments) =>
        AliasAsync(deployments.Select(d => (d.Model, d.Timeout, 1)).ToArray(), "ordered");

    private async Task<(string Alias, string Key)> AliasAsync((string Model, TimeSpan? Timeout, int Weight)[] deployments, string strategy)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);
        var alias = $"fake-{Guid.NewGuid():N}"[..16];
        using var model = platform.AppHost.Client("model", key);
        var definition = new
        {
            strategy,
            deployments = deployments.Select(d => new
            {
                provider = "openai",
                baseUrl = _upstream.BaseUrl,
                apiKey = "sk-fake",
                model = d.Model,
                attemptTimeout = d.Timeout,
                weight = d.Weight,
            }),
        };
        (await model.PutAsJsonAsync($"/v1/catalog/{alias}", definition)).EnsureSuccessStatusCode();
        return (alias, key);
    }
}
