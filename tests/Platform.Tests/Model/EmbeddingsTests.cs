using System.ClientModel;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using OpenAI;
using OpenAI.Embeddings;

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

    private static double Cosine(float[] x, float[] y) =>
        x.Zip(y).Sum(p => (double)p.First * p.Second) / (Math.Sqrt(x.Sum(v => (double)v * v)) * Math.Sqrt(y.Sum(v => (double)v * v)));
}
