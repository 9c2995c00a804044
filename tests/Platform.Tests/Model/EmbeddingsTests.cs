using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Embeddings;
using Platform.TestSupport;

namespace Platform.Tests.Model;

[Collection(PlatformCollection.Name)]
public sealed class EmbeddingsTests(PlatformFixture platform)
{
    [Fact]
    public async Task TheSimulatorEmbedsDeterministicallyWithTextsSharingWordsCloser()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        var client = new EmbeddingClient("simulator", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") });

        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync(["the cat sat on the mat", "the cat sat on a mat", "quantum field theory"]);
        OpenAIEmbedding again = await client.GenerateEmbeddingAsync("the cat sat on the mat");

        var (a, b, c) = (embeddings[0].ToFloats().ToArray(), embeddings[1].ToFloats().ToArray(), embeddings[2].ToFloats().ToArray());
        Assert.Equal(256, a.Length);
        Assert.Equal(a, again.ToFloats().ToArray());
        Assert.True(Cosine(a, b) > Cosine(a, c), $"{Cosine(a, b)} vs {Cosine(a, c)}");
        Assert.InRange(Cosine(a, a), 0.999, 1.001);
    }

    [Fact]
    public async Task DimensionsAreHonoured()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        var client = new EmbeddingClient("simulator", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") });

        OpenAIEmbedding embedding = await client.GenerateEmbeddingAsync("hello", new EmbeddingGenerationOptions { Dimensions = 64 });

        Assert.Equal(64, embedding.ToFloats().Length);
    }

    [Fact]
    public async Task AnAliasWithoutEmbeddingProvidersIsA400()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("model", key);
        (await client.PutAsJsonAsync("/v1/catalog/chat-only", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "anthropic", baseUrl = "http://127.0.0.1:9", model = "claude" } },
        })).EnsureSuccessStatusCode();

        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "chat-only", input = "hi" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("model_not_supported", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"model":"simulator"}""")]
    [InlineData("""{"model":"simulator","input":[]}""")]
    [InlineData("""{"model":"simulator","input":[1,2,3]}""")]
    [InlineData("""{"model":"simulator","input":"hi","dimensions":0}""")]
    [InlineData("""{"model":"simulator","input":"hi","encoding_format":"hex"}""")]
    [InlineData("""{"model":"simulator","input":"hi","extra":1}""")]
    [InlineData("""[1]""")]
    public async Task BadInputIsA400InOpenAisShape(string body)
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/embeddings", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("invalid_request_error", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheDefaultEmbeddingsAliasIsARealModelAndTheOfficialJsClientFindsRelatedSentencesCloser()
    {
        var (_, key) = await platform.NewTenantAsync("models");

        var response = await EmbedWithJsClientAsync(key, "embeddings", "a cat sits on the mat", "a kitten is resting on a rug", "the stock market fell sharply today");

        var vectors = response.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        Assert.All(vectors, v => Assert.Equal(384, v.Length));
        Assert.Equal("all-MiniLM-L6-v2", response.GetProperty("model").GetString());
        // all-MiniLM-L6-v2 gives 0.653 and 0.097 for these pairs; a bag of words would find the first pair unrelated.
        Assert.InRange(Cosine(vectors[0], vectors[1]), 0.55, 0.75);
        Assert.InRange(Cosine(vectors[0], vectors[2]), -0.05, 0.2);
    }

    [Fact]
    public async Task LocalEmbeddingsCountTheModelsOwnTokensAndCostNothing()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "embeddings", input = new[] { "a cat sits on the mat", "a cat sits on the mat" } });

        response.EnsureSuccessStatusCode();
        Assert.Equal("local-minilm", response.Headers.GetValues("x-platform-provider").Single());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(12, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        var data = body.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        Assert.Equal(data[0], data[1]);
        Assert.InRange(Cosine(data[0], data[0]), 0.999, 1.001);
    }

    [Fact]
    public async Task ConcurrentRequestsToTheLocalModelEachGetTheirOwnVectors()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        var client = new EmbeddingClient("embeddings", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") });
        var texts = Enumerable.Range(0, 12).Select(i => $"note {i}: the {(i % 2 == 0 ? "weather" : "football match")} today").ToArray();
        OpenAIEmbedding alone = await client.GenerateEmbeddingAsync(texts[5]);

        var together = await Task.WhenAll(texts.Select(async t => (await client.GenerateEmbeddingAsync(t)).Value.ToFloats().ToArray()));

        Assert.All(together, v => Assert.Equal(384, v.Length));
        Assert.InRange(Cosine(together[5], alone.ToFloats().ToArray()), 0.9999, 1.0001);
        Assert.True(Cosine(together[0], together[2]) > Cosine(together[0], together[1]), "notes on the same subject lie closer than notes on another");
    }

    [Theory]
    [InlineData("""{"model":"embeddings","input":"hi","dimensions":100}""", "dimensions")]
    [InlineData("""{"model":"embeddings","messages":[{"role":"user","content":"hi"}]}""", "model_not_supported")]
    public async Task WhatTheLocalModelCannotDoIsA400SayingWhy(string body, string expected)
    {
        using var client = platform.Admin("model");
        var path = body.Contains("messages", StringComparison.Ordinal) ? "/v1/chat/completions" : "/v1/embeddings";

        using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnInputLongerThanTheLocalModelsWindowIsRefusedNotCut()
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsJsonAsync("/v1/embeddings", new { model = "embeddings", input = string.Join(' ', Enumerable.Range(0, 600).Select(i => $"word{i}")) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("context_length_exceeded", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheModelListSaysWhatEachAliasServesAndWhichIsTheSimulator()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        using var client = platform.AppHost.Client("model", key);

        var models = (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("id").GetString()!);

        Assert.Equal(["embeddings"], models["embeddings"].GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.False(models["embeddings"].GetProperty("simulated").GetBoolean());
        Assert.Equal(["chat", "embeddings"], models["simulator"].GetProperty("capabilities").EnumerateArray().Select(c => c.GetString()));
        Assert.True(models["simulator"].GetProperty("simulated").GetBoolean());
    }

    /// <summary>The official OpenAI JS client, pinned in tests/openai, embedding <paramref name="texts"/> with its defaults.</summary>
    private async Task<JsonElement> EmbedWithJsClientAsync(string key, string model, params string[] texts)
    {
        var run = await NodePackages.RunAsync(Path.Combine(Repository.Root, "tests", "openai"), Path.Combine("node_modules", "openai", "package.json"), "embed.mjs",
            [model, .. texts], new Dictionary<string, string>
            {
                ["OPENAI_BASE_URL"] = new Uri(platform.AppHost.Url("model"), "/v1").ToString(),
                ["OPENAI_API_KEY"] = key,
            });
        Assert.True(run.ExitCode == 0, run.Errors);
        return JsonDocument.Parse(string.Join('\n', run.Lines)).RootElement.Clone();
    }

    private static double Cosine(float[] x, float[] y) =>
        x.Zip(y).Sum(p => (double)p.First * p.Second) / (Math.Sqrt(x.Sum(v => (double)v * v)) * Math.Sqrt(y.Sum(v => (double)v * v)));
}
