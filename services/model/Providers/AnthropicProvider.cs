using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Model.Catalog;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>
/// Anthropic's Messages API, translated both ways: system prompts to <c>system</c>, tool calls to <c>tool_use</c> blocks,
/// tool results to <c>tool_result</c> blocks in a user turn (consecutive turns of one role merged, as the API demands),
/// and its event stream back into OpenAI chunks. A <c>json_schema</c> response format becomes a forced tool whose input
/// is the answer.
/// </summary>
public sealed class AnthropicProvider(UpstreamHttp http) : IChatProvider
{
    public const string ProviderName = "anthropic";
    public const string ApiVersion = "2023-06-01";
    private const int DefaultMaxTokens = 4096;

    public string Name => ProviderName;

    public async Task<ChatCompletion> CompleteAsync(ChatRequest request, ModelDeployment deployment, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, deployment, stream: false, cancellationToken);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = document.RootElement;
        var structured = StructuredOutputTool(request);
        var text = new StringBuilder();
        var toolCalls = new List<ToolCall>();
        foreach (var block in root.GetProperty("content").EnumerateArray())
        {
            switch (block.GetProperty("type").GetString())
            {
                case "text":
                    text.Append(block.GetProperty("text").GetString());
                    break;
                case "tool_use" when block.GetProperty("name").GetString() == structured:
                    text.Append(block.GetProperty("input").GetRawText());
                    break;
                case "tool_use":
                    toolCalls.Add(new ToolCall(block.GetProperty("id").GetString()!, block.GetProperty("name").GetString()!, block.GetProperty("input").GetRawText()));
                    break;
            }
        }

        var usage = root.GetProperty("usage");
        return new ChatCompletion(
            root.GetProperty("id").GetString()!,
            DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            root.GetProperty("model").GetString()!,
            new ChatMessage("assistant", toolCalls.Count > 0 && text.Length == 0 ? null : text.ToString(), toolCalls, null, null),
            FinishReason(root.GetProperty("stop_reason").GetString(), structured is not null),
            new Usage(usage.GetProperty("input_tokens").GetInt32(), usage.GetProperty("output_tokens").GetInt32()));
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(
        ChatRequest request, ModelDeployment deployment, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, deployment, stream: true, cancellationToken);
        var structured = StructuredOutputTool(request);
        var toolIndexes = new Dictionary<int, int>();
        var structuredBlocks = new HashSet<int>();
        var inputTokens = 0;
        await foreach (var (name, data) in ServerSentEvents.ReadEventsAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken))
        {
            using var document = JsonDocument.Parse(data);
            var root = document.RootElement;
            switch (name ?? root.GetProperty("type").GetString())
            {
                case "message_start":
                    inputTokens = root.GetProperty("message").GetProperty("usage").GetProperty("input_tokens").GetInt32();
                    yield return new ChatChunk("assistant", "", [], null, null);
                    break;
                case "content_block_start":
                    var block = root.GetProperty("content_block");
                    var index = root.GetProperty("index").GetInt32();
                    if (block.GetProperty("type").GetString() == "tool_use")
                    {
                        if (block.GetProperty("name").GetString() == structured)
                        {
                            structuredBlocks.Add(index);
                        }
                        else
                        {
                            toolIndexes[index] = toolIndexes.Count;
                            yield return new ChatChunk(null, null, [new ToolCallDelta(toolIndexes[index], block.GetProperty("id").GetString(),
                                block.GetProperty("name").GetString(), "")], null, null);
                        }
                    }

                    break;
                case "content_block_delta":
                    var delta = root.GetProperty("delta");
                    var at = root.GetProperty("index").GetInt32();
                    if (delta.GetProperty("type").GetString() == "text_delta")
                    {
                        yield return new ChatChunk(null, delta.GetProperty("text").GetString(), [], null, null);
                    }
                    else if (structuredBlocks.Contains(at))
                    {
                        yield return new ChatChunk(null, delta.GetProperty("partial_json").GetString(), [], null, null);
                    }
                    else if (toolIndexes.TryGetValue(at, out var toolIndex))
                    {
                        yield return new ChatChunk(null, null, [new ToolCallDelta(toolIndex, null, null, delta.GetProperty("partial_json").GetString() ?? "")], null, null);
                    }

                    break;
                case "message_delta":
                    var outputTokens = root.TryGetProperty("usage", out var usage) ? usage.GetProperty("output_tokens").GetInt32() : 0;
                    yield return new ChatChunk(null, null, [], FinishReason(root.GetProperty("delta").GetProperty("stop_reason").GetString(), structured is not null),
                        new Usage(inputTokens, outputTokens));
                    break;
                case "error":
                    throw new UpstreamException($"{deployment.Name} sent an error event: {root.GetProperty("error").GetProperty("message").GetString()}",
                        UpstreamFailure.Transient, System.Net.HttpStatusCode.BadGateway);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(ChatRequest request, ModelDeployment deployment, bool stream, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, $"{deployment.BaseUrl!.TrimEnd('/')}/messages")
        {
            Content = new StringContent(Translate(request, deployment, stream).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        message.Headers.Add("anthropic-version", ApiVersion);
        if (http.ApiKey(deployment) is { } apiKey)
        {
            message.Headers.Add("x-api-key", apiKey);
        }

        return await http.SendAsync(message, deployment, cancellationToken);
    }

    private static JsonObject Translate(ChatRequest request, ModelDeployment deployment, bool stream)
    {
        var body = new JsonObject
        {
            ["model"] = deployment.UpstreamModel,
            ["max_tokens"] = request.MaxTokens ?? DefaultMaxTokens,
            ["stream"] = stream,
        };
        var system = string.Join("\n\n", request.Messages.Where(m => m.Role is "system" or "developer").Select(m => m.Content));
        if (system.Length > 0)
        {
            body["system"] = system;
        }

        var messages = new JsonArray();
        foreach (var message in request.Messages.Where(m => m.Role is not ("system" or "developer")))
        {
            var role = message.Role == "assistant" ? "assistant" : "user";
            var blocks = new JsonArray();
            if (message.Role == "tool")
            {
                blocks.Add(new JsonObject { ["type"] = "tool_result", ["tool_use_id"] = message.ToolCallId, ["content"] = message.Content ?? "" });
            }
            else
            {
                if (!string.IsNullOrEmpty(message.Content))
                {
                    blocks.Add(new JsonObject { ["type"] = "text", ["text"] = message.Content });
                }

                foreach (var call in message.ToolCalls)
                {
                    blocks.Add(new JsonObject { ["type"] = "tool_use", ["id"] = call.Id, ["name"] = call.Name, ["input"] = ParseArguments(call.Arguments) });
                }
            }

            // The Messages API wants turns to alternate: consecutive turns of one role become one.
            if (messages.Count > 0 && messages[^1]!["role"]!.GetValue<string>() == role)
            {
                foreach (var block in blocks.ToList())
                {
                    blocks.Remove(block);
                    messages[^1]!["content"]!.AsArray().Add(block);
                }
            }
            else
            {
                messages.Add(new JsonObject { ["role"] = role, ["content"] = blocks });
            }
        }

        body["messages"] = messages;
        var tools = new JsonArray();
        foreach (var tool in request.Tools)
        {
            tools.Add(new JsonObject
            {
                ["name"] = tool.Name,
                ["description"] = tool.Description,
                ["input_schema"] = tool.Parameters is { } schema ? JsonNode.Parse(schema.GetRawText()) : new JsonObject { ["type"] = "object" },
            });
        }

        if (StructuredOutputTool(request) is { } structured)
        {
            tools.Add(new JsonObject
            {
                ["name"] = structured,
                ["description"] = "Give the final answer as this tool's input.",
                ["input_schema"] = JsonNode.Parse(request.ResponseFormat.Schema!.Value.GetRawText()),
            });
            body["tool_choice"] = new JsonObject { ["type"] = "tool", ["name"] = structured };
        }
        else if (request.Tools.Count > 0)
        {
            body["tool_choice"] = request.ToolChoice.Mode switch
            {
                "required" => new JsonObject { ["type"] = "any" },
                "function" => new JsonObject { ["type"] = "tool", ["name"] = request.ToolChoice.FunctionName },
                "none" => new JsonObject { ["type"] = "none" },
                _ => new JsonObject { ["type"] = "auto" },
            };
        }

        if (tools.Count > 0)
        {
            body["tools"] = tools;
        }

        if (request.Temperature is { } temperature)
        {
            body["temperature"] = Math.Min(temperature, 1.0);
        }

        if (request.Stop.Count > 0)
        {
            body["stop_sequences"] = new JsonArray(request.Stop.Select(s => (JsonNode?)s).ToArray());
        }

        return body;
    }

    /// <summary>The name of the forced tool standing in for a <c>json_schema</c> response format, if any.</summary>
    private static string? StructuredOutputTool(ChatRequest request) =>
        request.ResponseFormat is { Type: "json_schema", Schema: not null } format ? $"respond_{format.SchemaName}" : null;

    private static JsonNode ParseArguments(string arguments)
    {
        try
        {
            return JsonNode.Parse(arguments) ?? new JsonObject();
        }
        catch (JsonException)
        {
            return new JsonObject();
        }
    }

    private static string FinishReason(string? stopReason, bool structured) => stopReason switch
    {
        "max_tokens" => "length",
        "tool_use" when structured => "stop",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    };
}
