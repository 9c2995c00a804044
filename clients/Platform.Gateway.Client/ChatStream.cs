using System.Net.Http;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Gateway.Client;

/// <summary>
/// Reads a streamed chat completion (server-sent events, <c>data: {chunk}</c> lines ending with <c>data: [DONE]</c>)
/// into the completion it adds up to: the text, the tool calls assembled from their pieces, the usage chunk.
/// </summary>
internal static class ChatStream
{
    public static async Task<ChatCompletion> ReadAsync(HttpResponseMessage response, Func<string, ValueTask> onDelta, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var calls = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>();
        JsonNode? usage = null;
        string? finish = null;
        string? refusal = null;
        string? failure = null;
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal))
                {
                    continue;
                }

                var data = line[5..].Trim();
                if (data == "[DONE]")
                {
                    break;
                }

                var chunk = JsonNode.Parse(data);
                if (chunk?["error"] is { } error)
                {
                    failure = error["message"]?.GetValue<string>() ?? "the stream failed";
                    continue;
                }

                usage = chunk?["usage"] is JsonObject u ? u : usage;
                if (chunk?["choices"] is not JsonArray { Count: > 0 } choices)
                {
                    continue;
                }

                finish = choices[0]?["finish_reason"]?.GetValue<string>() ?? finish;
                var delta = choices[0]?["delta"];
                refusal = delta?["refusal"]?.GetValue<string>() is { } refused ? refusal + refused : refusal;
                if (delta?["content"]?.GetValue<string>() is { Length: > 0 } content)
                {
                    text.Append(content);
                    await onDelta(content);
                }

                foreach (var call in delta?["tool_calls"] as JsonArray ?? [])
                {
                    var index = call?["index"]?.GetValue<int>() ?? 0;
                    var (id, name, arguments) = calls.GetValueOrDefault(index, (null, null, new StringBuilder()));
                    arguments.Append(call?["function"]?["arguments"]?.GetValue<string>());
                    calls[index] = (call?["id"]?.GetValue<string>() ?? id, call?["function"]?["name"]?.GetValue<string>() ?? name, arguments);
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new GatewayException(GatewayFailure.BrokeOff, $"The model gateway's answer broke off: {e.Message}", e);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new GatewayException(GatewayFailure.Malformed, $"The model gateway's stream is not a chat completion's: {e.Message}", e);
        }

        if (failure is not null)
        {
            throw new GatewayException(GatewayFailure.BrokeOff, $"The model call failed mid-stream: {failure}");
        }

        return finish is null
            ? throw new GatewayException(GatewayFailure.BrokeOff, "The model gateway's stream ended without a finish")
            : new ChatCompletion(text.ToString(), refusal, finish, [.. calls.Values.Select(c => new ToolCall(c.Id ?? "", c.Name ?? "", c.Arguments.ToString()))],
                GatewayClient.Usage(usage));
    }
}
