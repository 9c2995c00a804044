using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Gateway.Client;

/// <summary>
/// The model gateway's chat completions (plain or streamed) and model prices, over an <see cref="HttpClient"/> whose
/// base address is the gateway. A call either returns its answer or throws a <see cref="GatewayException"/> saying
/// why there is none; what to do about it (retry, fall back, refuse) is the caller's.
/// </summary>
public sealed class GatewayClient(HttpClient http)
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    /// <summary>A larger answer is a broken one: nothing the platform asks a model for is that long.</summary>
    public const int MaxAnswerBytes = 16 * 1024 * 1024;

    private const int MaxErrorBytes = 64 * 1024;
    private const int MaxMessageChars = 500;

    /// <summary>A completion read whole; <paramref name="request"/> is OpenAI's chat request body.</summary>
    public async Task<ChatCompletion> CompleteAsync(JsonObject request, GatewayCall call, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(Post("/v1/chat/completions", request, call), cancellationToken);
        return Completion(await ReadAsync(response, MaxAnswerBytes, cancellationToken));
    }

    /// <summary>
    /// A completion streamed (the request is sent with <c>stream</c> and usage on), each piece of its text passed to
    /// <paramref name="onDelta"/> as it arrives, and returned whole once it finishes.
    /// </summary>
    public async Task<ChatCompletion> StreamAsync(JsonObject request, GatewayCall call, Func<string, ValueTask> onDelta, CancellationToken cancellationToken)
    {
        request["stream"] = true;
        request["stream_options"] = new JsonObject { ["include_usage"] = true };
        using var response = await SendAsync(Post("/v1/chat/completions", request, call), cancellationToken);
        return response.Content.Headers.ContentType?.MediaType == "text/event-stream"
            ? await ChatStream.ReadAsync(response, onDelta, cancellationToken)
            : Completion(await ReadAsync(response, MaxAnswerBytes, cancellationToken));
    }

    /// <summary>An alias's prices and context window (<c>GET /v1/models/{alias}</c>).</summary>
    public async Task<ModelPricing> PricingAsync(string alias, GatewayCall call, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/models/{alias}");
        Authorize(request, call);
        using var response = await SendAsync(request, cancellationToken);
        var text = await ReadAsync(response, MaxErrorBytes, cancellationToken);
        try
        {
            using var document = JsonDocument.Parse(text);
            var pricing = document.RootElement.GetProperty("pricing");
            return new ModelPricing(pricing.GetProperty("input_per_million").GetDecimal(), pricing.GetProperty("output_per_million").GetDecimal(),
                document.RootElement.GetProperty("context_window").GetInt32());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new GatewayException(GatewayFailure.Malformed, $"The model gateway's price list for '{alias}' is unreadable: {e.Message}", e);
        }
    }

    private static HttpRequestMessage Post(string path, JsonObject body, GatewayCall call)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json") };
        Authorize(request, call);
        if (call.IdempotencyKey is { } key)
        {
            request.Headers.Add(IdempotencyKeyHeader, key);
        }

        return request;
    }

    private static void Authorize(HttpRequestMessage request, GatewayCall call)
    {
        if (call.ApiKey is { } apiKey)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
    }

    /// <summary>The response when it is a success; otherwise the refusal, read from OpenAI's error shape.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        using (request)
        {
            try
            {
                response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw new GatewayException(GatewayFailure.Unreachable, $"The model gateway did not answer: {e.Message}", e);
            }
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            var body = await ReadErrorAsync(response, cancellationToken);
            var (message, code, type) = Error(body);
            throw new GatewayException(GatewayFailure.Refused, message)
            {
                Status = (int)response.StatusCode,
                Code = code,
                Type = type,
                RetryAfter = response.Headers.RetryAfter is { } retry ? retry.Delta ?? retry.Date - DateTimeOffset.UtcNow : null,
            };
        }
    }

    private static async Task<string> ReadErrorAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadAsync(response, MaxErrorBytes, cancellationToken);
        }
        catch (GatewayException e)
        {
            return e.Message;
        }
    }

    /// <summary>OpenAI's <c>{"error": {"message", "code", "type"}}</c>, a problem+json <c>detail</c>, or the start of the body.</summary>
    private static (string Message, string? Code, string? Type) Error(string body)
    {
        var (message, code, type) = (body, (string?)null, (string?)null);
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                message = Text(error, "message") ?? body;
                (code, type) = (Text(error, "code"), Text(error, "type"));
            }
            else if (root.ValueKind == JsonValueKind.Object && Text(root, "detail") is { } detail)
            {
                message = detail;
            }
        }
        catch (JsonException)
        {
            // Not JSON: the text itself says what happened.
        }

        return (message.Length > MaxMessageChars ? message[..MaxMessageChars] + "…" : message, code, type);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>The body as text, reading at most <paramref name="limit"/> bytes.</summary>
    private static async Task<string> ReadAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    throw new GatewayException(GatewayFailure.TooLarge, $"The model gateway's answer is larger than {limit / 1024 / 1024} MB.");
                }

                buffer.Write(chunk, 0, read);
            }

            return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new GatewayException(GatewayFailure.BrokeOff, $"The model gateway's answer broke off: {e.Message}", e);
        }
    }

    private static ChatCompletion Completion(string text)
    {
        try
        {
            var completion = JsonNode.Parse(text);
            var choice = completion?["choices"]?[0];
            var message = choice?["message"] ?? throw new InvalidOperationException("it has no choices[0].message");
            return new ChatCompletion(
                message["content"]?.GetValue<string>() ?? "",
                message["refusal"]?.GetValue<string>(),
                choice["finish_reason"]?.GetValue<string>(),
                [.. (message["tool_calls"] as JsonArray ?? []).Select(c => new ToolCall(
                    c?["id"]?.GetValue<string>() ?? "", c?["function"]?["name"]?.GetValue<string>() ?? "", c?["function"]?["arguments"]?.GetValue<string>() ?? ""))],
                Usage(completion?["usage"]));
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new GatewayException(GatewayFailure.Malformed, $"The model gateway's answer is not a chat completion: {e.Message}", e);
        }
    }

    internal static GatewayUsage Usage(JsonNode? usage) => usage is null ? GatewayUsage.None : new(
        usage["prompt_tokens"]?.GetValue<int>() ?? 0,
        usage["completion_tokens"]?.GetValue<int>() ?? 0,
        usage["cost_usd"] is JsonValue cost ? cost.GetValue<decimal>() : 0);
}
