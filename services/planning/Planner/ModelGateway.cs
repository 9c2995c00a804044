using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.ServiceDefaults.Caching;

namespace Platform.Planning.Planner;

/// <summary>
/// The model gateway as planning uses it, always with the caller's own key: an alias's catalog prices, and chat
/// completions. Gateway errors become the planning API's: a budget or rate refusal stays a 429 with its
/// <c>Retry-After</c>, an unknown alias is the request's fault (400), other refusals a 422, failures a 502.
/// </summary>
public sealed class ModelGateway(IHttpClientFactory clients, TimeProvider time)
{
    /// <summary>Reads: the standard resilience handler applies.</summary>
    public const string ClientName = "model";

    /// <summary>Completions: the gateway routes, retries and times out upstream calls itself; nothing here repeats a paid call.</summary>
    public const string ChatClientName = "model-chat";

    /// <summary>A larger answer is a broken one: no valid plan is that long.</summary>
    public const int MaxAnswerBytes = 16 * 1024 * 1024;

    private readonly ExpiringCache<(string TenantId, string Alias), ModelPrices> _prices = new(time, TimeSpan.FromSeconds(5));

    /// <summary>Cached briefly per tenant and alias: a price change reaches plans within seconds.</summary>
    public Task<ModelPrices> PricesAsync(string tenantId, string alias, CancellationToken cancellationToken) =>
        _prices.GetOrLoadAsync((tenantId, alias), key => LoadPricesAsync(key.Alias, cancellationToken));

    /// <summary>With <paramref name="idempotencyKey"/>, a repeat of the call is answered with the recorded completion, unpaid.</summary>
    public async Task<GatewayAnswer> CompleteAsync(JsonObject body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ChatClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await SendAsync(client, request, cancellationToken);
        var (text, complete) = await ReadBoundedAsync(response, MaxAnswerBytes, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw Refused(response, ReadError(text), body["model"]?.GetValue<string>());
        }

        if (!complete)
        {
            return new GatewayAnswer(null, null, null, 0, 0, $"the answer is larger than {MaxAnswerBytes / 1024 / 1024} MB");
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var choice = document.RootElement.GetProperty("choices")[0];
            var message = choice.GetProperty("message");
            var usage = document.RootElement.TryGetProperty("usage", out var u) ? u : default;
            return new GatewayAnswer(
                message.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String ? content.GetString() : null,
                message.TryGetProperty("refusal", out var refusal) && refusal.ValueKind == JsonValueKind.String ? refusal.GetString() : null,
                choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String ? finish.GetString() : null,
                Tokens(usage, "prompt_tokens"),
                Tokens(usage, "completion_tokens"),
                null);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new PlanningProblem(StatusCodes.Status502BadGateway, "Model gateway failed", $"The model gateway's answer is not a chat completion: {e.Message}");
        }
    }

    private async Task<ModelPrices> LoadPricesAsync(string alias, CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/models/{alias}");
        using var response = await SendAsync(client, request, cancellationToken);
        var (text, _) = await ReadBoundedAsync(response, 64 * 1024, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw Refused(response, ReadError(text), alias);
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var pricing = document.RootElement.GetProperty("pricing");
            return new ModelPrices(pricing.GetProperty("input_per_million").GetDecimal(), pricing.GetProperty("output_per_million").GetDecimal(),
                document.RootElement.GetProperty("context_window").GetInt32());
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new PlanningProblem(StatusCodes.Status502BadGateway, "Model gateway failed", $"The model gateway's price list for '{alias}' is unreadable: {e.Message}");
        }
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or Polly.ExecutionRejectedException && !cancellationToken.IsCancellationRequested)
        {
            throw new PlanningProblem(StatusCodes.Status502BadGateway, "Model gateway unavailable", $"The model gateway did not answer: {e.Message}");
        }
    }

    private static PlanningProblem Refused(HttpResponseMessage response, (string Message, string? Code) error, string? alias) => (int)response.StatusCode switch
    {
        429 => new(StatusCodes.Status429TooManyRequests, "Model gateway refused the plan", $"The model gateway refused the planning call: {error.Message}")
        {
            RetryAfter = RetryAfter(response.Headers.RetryAfter),
        },
        401 or 403 => new(StatusCodes.Status403Forbidden, "Forbidden",
            $"The LLM planner calls the model gateway with this API key, which needs the `models` scope: add it, or use the manual planner. (The gateway said: {error.Message})")
        {
            Field = "planner",
        },
        409 when error.Code == "idempotency_key_in_use" => new(StatusCodes.Status503ServiceUnavailable, "Planner call in flight",
            "The same planning call is still running (an earlier request with this Idempotency-Key); ask again shortly.")
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        },
        422 when error.Code == "idempotency_key_reused" => new(StatusCodes.Status409Conflict, "Idempotency key reused",
            "This Idempotency-Key was used for another request."),
        404 => UnknownAlias(alias),
        400 when error.Code == "model_not_found" => UnknownAlias(alias),
        >= 400 and < 500 => new(StatusCodes.Status422UnprocessableEntity, "Model gateway refused the plan", $"The model gateway refused the planning call: {error.Message}"),
        _ => new(StatusCodes.Status502BadGateway, "Model gateway failed", $"The model gateway failed ({(int)response.StatusCode}): {error.Message}"),
    };

    private static PlanningProblem UnknownAlias(string? alias) => PlanningProblem.Invalid("model", $"No model alias '{alias}' is visible to this tenant.");

    private static TimeSpan? RetryAfter(RetryConditionHeaderValue? header) =>
        header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);

    /// <summary>OpenAI's error shape, <c>{"error": {"message", "code"}}</c>, shortened; the raw start of the body otherwise.</summary>
    private static (string Message, string? Code) ReadError(string body)
    {
        var (message, code) = (body, (string?)null);
        try
        {
            using var document = JsonDocument.Parse(body);
            var error = document.RootElement.GetProperty("error");
            message = error.GetProperty("message").GetString() ?? body;
            code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // Not OpenAI's shape: the body itself says what happened.
        }

        return (message.Length > 500 ? message[..500] + "…" : message, code);
    }

    private static int Tokens(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var value) && value.TryGetInt32(out var tokens) ? tokens : 0;

    /// <summary>The body as text, reading at most <paramref name="limit"/> bytes; <c>complete</c> is false when there was more.</summary>
    private static async Task<(string Text, bool Complete)> ReadBoundedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
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
                    return ("", false);
                }

                buffer.Write(chunk, 0, read);
            }

            return (Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length), true);
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            throw new PlanningProblem(StatusCodes.Status502BadGateway, "Model gateway failed", $"The model gateway's answer broke off: {e.Message}");
        }
    }
}

/// <summary>What an alias costs per million tokens, at most, across its deployments, and its smallest context window.</summary>
public sealed record ModelPrices(decimal InputPerMillion, decimal OutputPerMillion, int ContextWindow);

/// <summary>A chat completion's answer; <c>Problem</c> says why there is none to read.</summary>
public sealed record GatewayAnswer(string? Content, string? Refusal, string? FinishReason, int PromptTokens, int CompletionTokens, string? Problem);
