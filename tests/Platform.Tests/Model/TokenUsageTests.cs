using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Embeddings;

namespace Platform.Tests.Model;

/// <summary>
/// Usage and context windows as the deployment's model counts tokens. The texts tokenise far from four characters a
/// token, and differently in o200k_base and cl100k_base, so neither an estimate nor the wrong encoding passes.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class TokenUsageTests(PlatformFixture platform)
{
    private const string Mixed = "Tokenisation isn't uniform: naïve café, Zürich → 東京, ½ km, and 🙂🙂🙂!";
    private const string Russian = "Привет, как дела? Сегодня хорошая погода в Москве.";
    private const string Forecast = "Weather forecast for a city (都市の天気予報)";
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";

    private static readonly Tokenizer O200k = TiktokenTokenizer.CreateForEncoding("o200k_base");
    private static readonly Tokenizer Cl100k = TiktokenTokenizer.CreateForEncoding("cl100k_base");

    [Fact]
    public async Task TheSimulatorReportsTokensAsO200kCountsThem()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        var client = new ChatClient("simulator", new ApiKeyCredential(key), Options());

        ChatCompletion completion = await client.CompleteChatAsync([new SystemChatMessage("You are terse."), new UserChatMessage(Mixed)]);

        // OpenAI's documented count: each message is 3 tokens of framing plus its role and content; 3 prime the reply.
        Assert.Equal(3 + Message(O200k, "system", "You are terse.") + Message(O200k, "user", Mixed), completion.Usage.InputTokenCount);
        Assert.Equal(O200k.CountTokens(completion.Content[0].Text), completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task NamesAndToolDefinitionsCountTowardsThePrompt()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        using var client = platform.AppHost.Client("model", key);
        var body = $$$"""
            {"model":"simulator","tool_choice":"none","messages":[{"role":"user","name":"ana","content":{{{JsonSerializer.Serialize(Mixed)}}}}],
             "tools":[{"type":"function","function":{"name":"get_weather","description":"{{{Forecast}}}","parameters":{{{WeatherSchema}}}}}]}
            """;

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        var name = 1 + O200k.CountTokens("ana");
        var tool = O200k.CountTokens("get_weather") + O200k.CountTokens(Forecast) + O200k.CountTokens(WeatherSchema);
        Assert.Equal(3 + Message(O200k, "user", Mixed) + name + tool, answer.RootElement.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
    }

    [Fact]
    public async Task MaxTokensCutsTheAnswerAtThatManyTokens()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        var client = new ChatClient("simulator", new ApiKeyCredential(key), Options());

        ChatCompletion whole = await client.CompleteChatAsync([new UserChatMessage(Mixed)]);
        ChatCompletion cut = await client.CompleteChatAsync([new UserChatMessage(Mixed)], new ChatCompletionOptions { MaxOutputTokenCount = 5 });

        Assert.Equal(ChatFinishReason.Length, cut.FinishReason);
        Assert.StartsWith(cut.Content[0].Text, whole.Content[0].Text, StringComparison.Ordinal);
        Assert.Equal(5, O200k.CountTokens(cut.Content[0].Text));
        Assert.Equal(5, cut.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task EmbeddingUsageIsTheInputsO200kCount()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        var client = new EmbeddingClient("simulator", new ApiKeyCredential(key), Options());

        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync([Mixed, Russian]);

        Assert.Equal(O200k.CountTokens(Mixed) + O200k.CountTokens(Russian), embeddings.Usage.InputTokenCount);
    }

    [Fact]
    public async Task AnEmbeddingModelsDeploymentCountsInCl100k()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await PutAliasAsync(key, "embed-cl100k", new { provider = "simulator", model = "text-embedding-3-small" });
        var client = new EmbeddingClient("embed-cl100k", new ApiKeyCredential(key), Options());

        OpenAIEmbeddingCollection embeddings = await client.GenerateEmbeddingsAsync([Mixed, Russian]);

        Assert.Equal(Cl100k.CountTokens(Mixed) + Cl100k.CountTokens(Russian), embeddings.Usage.InputTokenCount);
    }

    [Fact]
    public async Task EachDeploymentsContextWindowIsCheckedInItsOwnEncoding()
    {
        const int window = 200;
        var prompt = string.Join(' ', Enumerable.Repeat(Russian, 10));
        Assert.True(3 + Message(Cl100k, "user", prompt) > window && 3 + Message(O200k, "user", prompt) <= window, "the prompt must fit only in o200k");
        var (_, key) = await platform.NewTenantAsync("admin");
        await PutAliasAsync(key, "windows",
            new { name = "windows/gpt-4", provider = "simulator", model = "gpt-4", contextWindow = window },
            new { name = "windows/gpt-4o", provider = "simulator", model = "gpt-4o", contextWindow = window });
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "windows", messages = new[] { new { role = "user", content = prompt } } });

        response.EnsureSuccessStatusCode();
        Assert.Equal("windows/gpt-4o", response.Headers.GetValues("x-platform-deployment").Single());
    }

    private static int Message(Tokenizer tokenizer, string role, string content) => 3 + tokenizer.CountTokens(role) + tokenizer.CountTokens(content);

    private OpenAIClientOptions Options() => new() { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") };

    private async Task PutAliasAsync(string key, string alias, params object[] deployments)
    {
        using var client = platform.AppHost.Client("model", key);
        (await client.PutAsJsonAsync($"/v1/catalog/{alias}", new { strategy = "ordered", deployments })).EnsureSuccessStatusCode();
    }
}
