using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Platform.Tests.Model;

/// <summary>OpenAI clients talking to an Anthropic deployment through the gateway's translation, both ways.</summary>
[Collection(PlatformCollection.Name)]
public sealed class AnthropicTests(PlatformFixture platform) : IAsyncLifetime
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}""";
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task SystemPromptsAndAnswersAreTranslated()
    {
        var client = await ClientAsync("ok-claude");

        ChatCompletion completion = await client.CompleteChatAsync([new SystemChatMessage("Be brief."), new UserChatMessage("hi")]);

        Assert.Equal("Hello from ok-claude (system: Be brief.)", completion.Content[0].Text);
        Assert.Equal(9, completion.Usage.InputTokenCount);
        Assert.Equal(5, completion.Usage.OutputTokenCount);
    }

    [Fact]
    public async Task AToolRoundTripIsTranslatedBothWays()
    {
        var client = await ClientAsync("ok-claude");
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString(WeatherSchema)) } };
        List<ChatMessage> messages = [new UserChatMessage("please get_weather")];

        ChatCompletion call = await client.CompleteChatAsync(messages, options);
        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        Assert.Equal("get_weather", call.ToolCalls[0].FunctionName);
        Assert.Equal("""{"city":"Paris"}""", call.ToolCalls[0].FunctionArguments.ToString());

        messages.Add(new AssistantChatMessage(call));
        messages.Add(new ToolChatMessage(call.ToolCalls[0].Id, "sunny"));
        ChatCompletion answer = await client.CompleteChatAsync(messages, options);

        Assert.Equal("Tool said: sunny", answer.Content[0].Text);
    }

    [Fact]
    public async Task AStreamedToolCallArrivesAsOpenAiToolCallDeltas()
    {
        var client = await ClientAsync("ok-claude");
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather", BinaryData.FromString(WeatherSchema)) } };

        var arguments = new StringBuilder();
        string? name = null;
        ChatFinishReason? finish = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("please get_weather")], options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                name ??= part.FunctionName;
                arguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }

            finish = update.FinishReason ?? finish;
        }

        Assert.Equal("get_weather", name);
        Assert.Equal("""{"city":"Paris"}""", arguments.ToString());
        Assert.Equal(ChatFinishReason.ToolCalls, finish);
    }

    [Fact]
    public async Task AStreamedTextAnswerArrivesWithUsage()
    {
        var client = await ClientAsync("ok-claude");

        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("hi")]))
        {
            text.AppendJoin("", update.ContentUpdate.Select(p => p.Text));
            usage = update.Usage ?? usage;
        }

        Assert.Equal("Hello from ok-claude", text.ToString());
        Assert.Equal(5, usage?.OutputTokenCount);
    }

    [Fact]
    public async Task AJsonSchemaFormatBecomesAForcedToolWhoseInputIsTheAnswer()
    {
        var client = await ClientAsync("ok-claude");
        var options = new ChatCompletionOptions
        {
            ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("answer", BinaryData.FromString("""{"type":"object","properties":{"answer":{"type":"string"}}}""")),
        };

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("What is the answer?")], options);

        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal("forty-two", JsonDocument.Parse(completion.Content[0].Text).RootElement.GetProperty("answer").GetString());
    }

    [Fact]
    public async Task AnOverloadedAnthropicFallsBackToTheNextDeployment()
    {
        var overloaded = $"overloaded-{Guid.NewGuid():N}"[..24];
        var client = await ClientAsync(overloaded, "ok-claude");

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("hi")]);

        Assert.Equal("Hello from ok-claude", completion.Content[0].Text);
        Assert.Equal(3, _upstream.Calls(overloaded));
    }

    private async Task<ChatClient> ClientAsync(params string[] models)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);
        using var model = platform.AppHost.Client("model", key);
        (await model.PutAsJsonAsync("/v1/catalog/claude", new
        {
            strategy = "ordered",
            deployments = models.Select(m => new { provider = "anthropic", baseUrl = _upstream.BaseUrl, apiKey = "sk-ant-fake", model = m }),
        })).EnsureSuccessStatusCode();
        return new ChatClient("claude", new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") });
    }
}
