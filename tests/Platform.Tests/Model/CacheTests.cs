using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace Platform.Tests.Model;

[Collection(PlatformCollection.Name)]
public sealed class CacheTests(PlatformFixture platform) : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task ADeterministicRequestIsAnsweredOnceUpstreamThenFromCacheAlsoAsAStream()
    {
        var model = $"ok-{Guid.NewGuid():N}"[..20];
        using var client = await ClientAsync(model);
        var body = new { model = "cached", temperature = 0, messages = new[] { new { role = "user", content = "hi" } } };

        using var miss = await client.PostAsJsonAsync("/v1/chat/completions", body);
        using var hit = await client.PostAsJsonAsync("/v1/chat/completions", body);
        using var streamed = await client.PostAsJsonAsync("/v1/chat/completions", new { body.model, body.temperature, body.messages, stream = true });
        var stream = await streamed.Content.ReadAsStringAsync();

        Assert.Equal("miss", miss.Headers.GetValues("x-cache").Single());
        Assert.Equal("hit", hit.Headers.GetValues("x-cache").Single());
        Assert.Equal("hit", streamed.Headers.GetValues("x-cache").Single());
        Assert.Equal(1, _upstream.Calls(model));
        Assert.Contains($"Hello from {model}", await hit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith("data: [DONE]\n\n", stream, StringComparison.Ordinal);
        Assert.Equal($"Hello from {model}", ContentOf(stream));
    }

    [Fact]
    public async Task ANonZeroTemperatureIsNotCachedUnlessTheHeaderAsks()
    {
        var model = $"ok-{Guid.NewGuid():N}"[..20];
        using var client = await ClientAsync(model);
        var body = new { model = "cached", temperature = 0.7, messages = new[] { new { role = "user", content = "hi" } } };

        using var first = await client.PostAsJsonAsync("/v1/chat/completions", body);
        using var second = await client.PostAsJsonAsync("/v1/chat/completions", body);
        Assert.False(first.Headers.Contains("x-cache"));
        Assert.Equal(2, _upstream.Calls(model));

        client.DefaultRequestHeaders.Add("x-platform-cache", "true");
        using var third = await client.PostAsJsonAsync("/v1/chat/completions", body);
        using var fourth = await client.PostAsJsonAsync("/v1/chat/completions", body);
        Assert.Equal("hit", fourth.Headers.GetValues("x-cache").Single());
        Assert.Equal(3, _upstream.Calls(model));
    }

    [Fact]
    public async Task TheCacheIsPerTenant()
    {
        var model = $"ok-{Guid.NewGuid():N}"[..20];
        using var alice = await ClientAsync(model);
        using var bob = await ClientAsync(model);
        var body = new { model = "cached", temperature = 0, messages = new[] { new { role = "user", content = "same question" } } };

        (await alice.PostAsJsonAsync("/v1/chat/completions", body)).EnsureSuccessStatusCode();
        using var bobs = await bob.PostAsJsonAsync("/v1/chat/completions", body);

        Assert.Equal("miss", bobs.Headers.GetValues("x-cache").Single());
        Assert.Equal(2, _upstream.Calls(model));
    }

    private static string ContentOf(string stream)
    {
        var text = new StringBuilder();
        foreach (var line in stream.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal)))
        {
            using var chunk = System.Text.Json.JsonDocument.Parse(line[6..]);
            foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
            {
                if (choice.GetProperty("delta").TryGetProperty("content", out var content))
                {
                    text.Append(content.GetString());
                }
            }
        }

        return text.ToString();
    }

    private async Task<HttpClient> ClientAsync(string model)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);
        var client = platform.AppHost.Client("model", key);
        (await client.PutAsJsonAsync("/v1/catalog/cached", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "openai", baseUrl = _upstream.BaseUrl, model } },
        })).EnsureSuccessStatusCode();
        return client;
    }
}
