using System.ClientModel;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace Platform.Tests.Model;

/// <summary>The gateway through the official OpenAI .NET SDK, as any OpenAI client would use it.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ChatCompletionsTests(PlatformFixture platform)
{
    private const string WeatherSchema = """{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer","minimum":1}},"required":["city","days"],"additionalProperties":false}""";

    [Fact]
    public async Task APlainCompletionAnswersDeterministicallyWithUsage()
    {
        var client = await ChatClientAsync();

        ChatCompletion first = await client.CompleteChatAsync([new UserChatMessage("What is the platform?")]);
        ChatCompletion second = await client.CompleteChatAsync([new UserChatMessage("What is the platform?")]);

        Assert.Equal(ChatFinishReason.Stop, first.FinishReason);
        Assert.StartsWith("[simulator]", first.Content[0].Text, StringComparison.Ordinal);
        Assert.Contains("What is the platform?", first.Content[0].Text, StringComparison.Ordinal);
        Assert.Equal(first.Content[0].Text, second.Content[0].Text);
        Assert.True(first.Usage.InputTokenCount > 0 && first.Usage.OutputTokenCount > 0);
        Assert.Equal("platform-simulator-1", first.Model);
    }

    [Fact]
    public async Task AStreamedCompletionArrivesTokenByTokenAndEndsWithUsage()
    {
        var client = await ChatClientAsync();
        ChatCompletion whole = await client.CompleteChatAsync([new UserChatMessage("Stream this please")]);

        var text = new StringBuilder();
        var updates = 0;
        ChatTokenUsage? usage = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("Stream this please")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage = update.Usage ?? usage;
        }

        Assert.Equal(whole.Content[0].Text, text.ToString());
        Assert.True(updates > 10, $"only {updates} updates");
        Assert.Equal(whole.Usage.OutputTokenCount, usage?.OutputTokenCount);
    }

    [Fact]
    public async Task NamingAToolGetsASchemaValidToolCallAndItsResultIsSummarised()
    {
        var client = await ChatClientAsync();
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather forecast for a city", BinaryData.FromString(WeatherSchema)) } };
        List<ChatMessage> messages = [new UserChatMessage("Use get_weather for \"Paris\"")];

        ChatCompletion call = await client.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.ToolCalls, call.FinishReason);
        var toolCall = Assert.Single(call.ToolCalls);
        Assert.Equal("get_weather", toolCall.FunctionName);
        using var arguments = JsonDocument.Parse(toolCall.FunctionArguments);
        Assert.Equal("Paris", arguments.RootElement.GetProperty("city").GetString());
        Assert.True(arguments.RootElement.GetProperty("days").GetInt32() >= 1);

        messages.Add(new AssistantChatMessage(call));
        messages.Add(new ToolChatMessage(toolCall.Id, """{"forecast":"sunny"}"""));
        ChatCompletion answer = await client.CompleteChatAsync(messages, options);

        Assert.Equal(ChatFinishReason.Stop, answer.FinishReason);
        Assert.Contains("get_weather returned {\"forecast\":\"sunny\"}", answer.Content[0].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ToolsNamedTogetherAreCalledInParallel()
    {
        var client = await ChatClientAsync();
        var options = new ChatCompletionOptions
        {
            Tools =
            {
                ChatTool.CreateFunctionTool("get_weather", "Weather forecast", BinaryData.FromString(WeatherSchema)),
                ChatTool.CreateFunctionTool("get_time", "Current time", BinaryData.FromString("""{"type":"object","properties":{}}""")),
            },
        };

        ChatCompletion call = await client.CompleteChatAsync([new UserChatMessage("Call get_time and then get_weather")], options);

        Assert.Equal(["get_time", "get_weather"], call.ToolCalls.Select(c => c.FunctionName));
        Assert.Equal(2, call.ToolCalls.Select(c => c.Id).Distinct().Count());
    }

    [Fact]
    public async Task AStreamedToolCallReassemblesIntoTheSameCall()
    {
        var client = await ChatClientAsync();
        var options = new ChatCompletionOptions { Tools = { ChatTool.CreateFunctionTool("get_weather", "Weather forecast", BinaryData.FromString(WeatherSchema)) } };
        ChatCompletion whole = await client.CompleteChatAsync([new UserChatMessage("get_weather \"Oslo\"")], options);

        var arguments = new StringBuilder();
        string? name = null;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage("get_weather \"Oslo\"")], options))
        {
            foreach (var part in update.ToolCallUpdates)
            {
                name ??= part.FunctionName;
                arguments.Append(part.FunctionArgumentsUpdate?.ToString());
            }
        }

        Assert.Equal("get_weather", name);
        Assert.Equal(whole.ToolCalls[0].FunctionArguments.ToString(), arguments.ToString());
    }

    [Fact]
    public async Task AJsonSchemaFormatGetsASchemaValidObject()
    {
        var client = await ChatClientAsync();
        var schema = """
            {"type":"object","properties":{
              "steps":{"type":"array","minItems":2,"items":{"type":"object","properties":{
                "id":{"type":"string"},"kind":{"type":"string","enum":["model","tool"]},"dependsOn":{"type":"array","items":{"type":"string"}}},
                "required":["id","kind","dependsOn"],"additionalProperties":false}}},
             "required":["steps"],"additionalProperties":false}
            """;
        var options = new ChatCompletionOptions { ResponseFormat = ChatResponseFormat.CreateJsonSchemaFormat("plan", BinaryData.FromString(schema), jsonSchemaIsStrict: true) };

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Plan a trip")], options);

        using var plan = JsonDocument.Parse(completion.Content[0].Text);
        var steps = plan.RootElement.GetProperty("steps");
        Assert.Equal(2, steps.GetArrayLength());
        Assert.All(steps.EnumerateArray(), s => Assert.Equal("model", s.GetProperty("kind").GetString()));
    }

    [Fact]
    public async Task AnUnknownModelIsA404InOpenAisShape()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        var client = new ChatClient("no-such-model", new ApiKeyCredential(key), Options());

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(404, error.Status);
        Assert.Contains("model_not_found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ABadKeyIsA401InOpenAisShape()
    {
        var client = new ChatClient("simulator", new ApiKeyCredential("plt_wrongwrongwrongwrongwrongwrong12"), Options());

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.CompleteChatAsync([new UserChatMessage("hi")]));

        Assert.Equal(401, error.Status);
        Assert.Contains("invalid_api_key", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{not json", null)]
    [InlineData("""{"model":"simulator"}""", "messages")]
    [InlineData("""{"model":"simulator","messages":[]}""", "messages")]
    [InlineData("""{"model":"simulator","messages":"hi"}""", "messages")]
    [InlineData("""{"model":42,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"simulator","messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"simulator","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "temperature")]
    [InlineData("""{"model":"simulator","messages":[{"role":"user","content":"hi"}],"temperature":3}""", "temperature")]
    [InlineData("""{"model":"simulator","messages":[{"role":"user","content":"hi"}],"max_tokens":-1}""", "max_tokens")]
    [InlineData("""{"model":"simulator","messages":[{"role":"user","content":"hi"}],"bogus":true}""", "bogus")]
    [InlineData("""{"model":"simulator","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}""", "stream_options")]
    [InlineData("""{"model":"simulator","messages":[{"role":"tool","content":"x"}]}""", "messages[0].tool_call_id")]
    public async Task BadInputIsA400NamingTheParameter(string body, string? param)
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/chat/completions", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("invalid_request_error", error.RootElement.GetProperty("error").GetProperty("type").GetString());
        Assert.Equal(param, error.RootElement.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task ABodyOverTheLimitIsA413InOpenAisShape()
    {
        using var client = platform.Admin("model");
        var huge = "{\"model\":\"simulator\",\"messages\":[{\"role\":\"user\",\"content\":\"" + new string('x', 9 * 1024 * 1024) + "\"}]}";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("invalid_request_error", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryResponseReportsTheGatewayOverhead()
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/chat/completions",
            new StringContent("""{"model":"simulator","messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(double.Parse(response.Headers.GetValues("x-platform-overhead-ms").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 0);
        Assert.Equal("simulator", response.Headers.GetValues("x-platform-provider").Single());
    }

    private async Task<ChatClient> ChatClientAsync()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        return new ChatClient("simulator", new ApiKeyCredential(key), Options());
    }

    private OpenAIClientOptions Options() => new() { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") };
}
