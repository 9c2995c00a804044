using System.Text.Json.Nodes;
using Platform.Gateway.Client;
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

    private readonly ExpiringCache<(string TenantId, string Alias), ModelPrices> _prices = new(time, TimeSpan.FromSeconds(5));

    /// <summary>Cached briefly per tenant and alias: a price change reaches plans within seconds.</summary>
    public Task<ModelPrices> PricesAsync(string tenantId, string alias, CancellationToken cancellationToken) =>
        _prices.GetOrLoadAsync((tenantId, alias), key => LoadPricesAsync(key.Alias, cancellationToken));

    /// <summary>With <paramref name="idempotencyKey"/>, a repeat of the call is answered with the recorded completion, unpaid.</summary>
    public async Task<GatewayAnswer> CompleteAsync(JsonObject body, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ChatClientName);
        try
        {
            var completion = await new GatewayClient(client).CompleteAsync(body, new GatewayCall(IdempotencyKey: idempotencyKey), cancellationToken);
            return new GatewayAnswer(completion.Content, completion.Refusal, completion.FinishReason, completion.Usage.PromptTokens, completion.Usage.CompletionTokens, null);
        }
        catch (GatewayException e) when (e.Failure == GatewayFailure.TooLarge)
        {
            return new GatewayAnswer(null, null, null, 0, 0, $"the answer is larger than {GatewayClient.MaxAnswerBytes / 1024 / 1024} MB");
        }
        catch (GatewayException e)
        {
            throw Problem(e, body["model"]?.GetValue<string>());
        }
    }

    private async Task<ModelPrices> LoadPricesAsync(string alias, CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ClientName);
        try
        {
            var pricing = await new GatewayClient(client).PricingAsync(alias, new GatewayCall(), cancellationToken);
            return new ModelPrices(pricing.InputPerMillion, pricing.OutputPerMillion, pricing.ContextWindow);
        }
        catch (GatewayException e)
        {
            throw Problem(e, alias);
        }
        catch (Polly.ExecutionRejectedException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The reads' resilience handler gave up (its circuit is open, or its total timeout passed).
            throw Problem(new GatewayException(GatewayFailure.Unreachable, $"The model gateway did not answer: {e.Message}", e), alias);
        }
    }

    private static PlanningProblem Problem(GatewayException e, string? alias) => e.Failure switch
    {
        GatewayFailure.Refused => Refused(e, alias),
        GatewayFailure.Unreachable => new(StatusCodes.Status502BadGateway, "Model gateway unavailable", e.Message),
        _ => new(StatusCodes.Status502BadGateway, "Model gateway failed", e.Message),
    };

    private static PlanningProblem Refused(GatewayException e, string? alias) => e.Status switch
    {
        429 => new(StatusCodes.Status429TooManyRequests, "Model gateway refused the plan", $"The model gateway refused the planning call: {e.Message}")
        {
            RetryAfter = e.RetryAfter,
        },
        401 or 403 => new(StatusCodes.Status403Forbidden, "Forbidden",
            $"The LLM planner calls the model gateway with this API key, which needs the `models` scope: add it, or use the manual planner. (The gateway said: {e.Message})")
        {
            Field = "planner",
        },
        409 when e.Code == "idempotency_key_in_use" => new(StatusCodes.Status503ServiceUnavailable, "Planner call in flight",
            "The same planning call is still running (an earlier request with this Idempotency-Key); ask again shortly.")
        {
            RetryAfter = TimeSpan.FromSeconds(1),
        },
        422 when e.Code == "idempotency_key_reused" => new(StatusCodes.Status409Conflict, "Idempotency key reused",
            "This Idempotency-Key was used for another request."),
        404 => UnknownAlias(alias),
        400 when e.Code == "model_not_found" => UnknownAlias(alias),
        >= 400 and < 500 => new(StatusCodes.Status422UnprocessableEntity, "Model gateway refused the plan", $"The model gateway refused the planning call: {e.Message}"),
        _ => new(StatusCodes.Status502BadGateway, "Model gateway failed", $"The model gateway failed ({e.Status}): {e.Message}"),
    };

    private static PlanningProblem UnknownAlias(string? alias) => PlanningProblem.Invalid("model", $"No model alias '{alias}' is visible to this tenant.");
}

/// <summary>What an alias costs per million tokens, at most, across its deployments, and its smallest context window.</summary>
public sealed record ModelPrices(decimal InputPerMillion, decimal OutputPerMillion, int ContextWindow);

/// <summary>A chat completion's answer; <c>Problem</c> says why there is none to read.</summary>
public sealed record GatewayAnswer(string? Content, string? Refusal, string? FinishReason, int PromptTokens, int CompletionTokens, string? Problem);
