using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Model.Catalog;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>
/// Any OpenAI-compatible chat completions API (OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter…):
/// the client's body goes upstream as sent, with the deployment's model and, when streaming, usage requested.
/// </summary>
public sealed class OpenAiProvider(UpstreamHttp http) : IChatProvider, IEmbeddingProvider
{
    public string Name => "openai";

    public async Task<ChatCompletion> CompleteAsync(ChatRequest request, ModelDeployment deployment, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, deployment, stream: false, cancellationToken);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        return ReadCompletion(document.RootElement, deployment);
    }

    public async IAsyncEnumerable<ChatChunk> StreamAsync(
        ChatRequest request, ModelDeployment deployment, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var response = await SendAsync(request, deployment, stream: true, cancellationToken);
        await foreach (var data in ServerSentEvents.ReadDataAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken))
        {
            if (data == "[DONE]")
            {
                yield break;
            }

            using var chunk = JsonDocument.Parse(data);
            yield return ReadChunk(chunk.RootElement);
        }
    }

    public async Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, ModelDeployment deployment, CancellationToken cancellationToken)
    {
        var body = request.Body.DeepClone().AsObject();
        body["model"] = deployment.UpstreamModel;
        body["encoding_format"] = "float";
        using var response = await PostAsync("embeddings", body, deployment, cancellationToken);
        using var document = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
        var root = document.RootElement;
        var vectors = root.GetProperty("data").EnumerateArray()
            .OrderBy(d => d.GetProperty("index").GetInt32())
            .Select(d => d.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray())
            .ToList();
        var usage = root.TryGetProperty("usage", out var u) ? new Usage(u.GetProperty("prompt_tokens").GetInt32(), 0) : new Usage(0, 0);
        return new EmbeddingResult(vectors, root.TryGetProperty("model", out var model) ? model.GetString()! : deployment.UpstreamModel, usage);
    }

    private async Task<HttpResponseMessage> SendAsync(ChatRequest request, ModelDeployment deployment, bool stream, CancellationToken cancellationToken)
    {
        var body = request.Body.DeepClone().AsObject();
        body["model"] = deployment.UpstreamModel;
        body["stream"] = stream;
        if (stream)
        {
            body["stream_options"] = new JsonObject { ["include_usage"] = true };
        }
        else
        {
            body.Remove("stream_options");
        }

        return await PostAsync("chat/completions", body, deployment, cancellationToken);
    }

    private async Task<HttpResponseMessage> PostAsync(string path, JsonObject body, ModelDeployment deployment, CancellationToken cancellationToken)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, $"{deployment.BaseUrl!.TrimEnd('/')}/{path}")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (http.ApiKey(deployment) is { } apiKey)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return await http.SendAsync(message, deployment, cancellationToken);
    }

    private static ChatCompletion ReadCompletion(JsonElement root, ModelDeployment deployment)
    {
        var choice = root.GetProperty("choices")[0];
        var message = choice.GetProperty("message");
        var toolCalls = message.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array
            ? calls.EnumerateArray().Select(c => new ToolCall(c.GetProperty("id").GetString()!, c.GetProperty("function").GetProperty("name").GetString()!,
                c.GetProperty("function").GetProperty("arguments").GetString() ?? "{}")).ToList()
            : [];
        return new ChatCompletion(
            root.TryGetProperty("id", out var id) ? id.GetString()! : $"chatcmpl-{Guid.NewGuid():N}",
            root.TryGetProperty("created", out var created) ? created.GetInt64() : DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            root.TryGetProperty("model", out var model) ? model.GetString()! : deployment.UpstreamModel,
            new ChatMessage("assistant", message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : null,
                toolCalls, null, null),
            choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String ? finish.GetString()! : "stop",
            ReadUsage(root) ?? new Usage(0, 0));
    }

    private static ChatChunk ReadChunk(JsonElement root)
    {
        var usage = ReadUsage(root);
        if (!root.TryGetProperty("choices", out var choices) || choices.GetArrayLength() == 0)
        {
            return new ChatChunk(null, null, [], null, usage);
        }

        var choice = choices[0];
        var delta = choice.TryGetProperty("delta", out var d) ? d : default;
        var toolCalls = delta.ValueKind == JsonValueKind.Object && delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array
            ? calls.EnumerateArray().Select(c =>
            {
                var function = c.TryGetProperty("function", out var f) ? f : default;
                return new ToolCallDelta(
                    c.TryGetProperty("index", out var index) ? index.GetInt32() : 0,
                    c.TryGetProperty("id", out var callId) ? callId.GetString() : null,
                    function.ValueKind == JsonValueKind.Object && function.TryGetProperty("name", out var name) ? name.GetString() : null,
                    function.ValueKind == JsonValueKind.Object && function.TryGetProperty("arguments", out var arguments) ? arguments.GetString() ?? "" : "");
            }).ToList()
            : [];
        return new ChatChunk(
            delta.ValueKind == JsonValueKind.Object && delta.TryGetProperty("role", out var role) ? role.GetString() : null,
            delta.ValueKind == JsonValueKind.Object && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : null,
            toolCalls,
            choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String ? finish.GetString() : null,
            usage);
    }

    private static Usage? ReadUsage(JsonElement root) =>
        root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object
            ? new Usage(usage.GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32())
            : null;
}
