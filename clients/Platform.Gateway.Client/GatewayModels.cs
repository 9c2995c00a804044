namespace Platform.Gateway.Client;

/// <summary>
/// How one call is sent: <paramref name="ApiKey"/> as its bearer token (none: whatever the client's handlers add), and
/// <paramref name="IdempotencyKey"/>, under which a repeat is answered with the recorded completion, unpaid.
/// </summary>
public sealed record GatewayCall(string? ApiKey = null, string? IdempotencyKey = null);

/// <summary>A chat completion's first choice: its text (empty when it only called tools), tool calls and usage.</summary>
public sealed record ChatCompletion(string Content, string? Refusal, string? FinishReason, IReadOnlyList<ToolCall> ToolCalls, GatewayUsage Usage);

/// <summary>A function call the model asked for; <paramref name="Arguments"/> is the JSON text it wrote.</summary>
public sealed record ToolCall(string Id, string Name, string Arguments);

/// <summary>Tokens and the cost the gateway recorded for the call (<c>usage.cost_usd</c>).</summary>
public sealed record GatewayUsage(int PromptTokens, int CompletionTokens, decimal CostUsd)
{
    public static readonly GatewayUsage None = new(0, 0, 0);
}

/// <summary>What an alias costs per million tokens, at most across its deployments, and its smallest context window.</summary>
public sealed record ModelPricing(decimal InputPerMillion, decimal OutputPerMillion, int ContextWindow);

/// <summary>Why a call has no answer to read.</summary>
public enum GatewayFailure
{
    /// <summary>The gateway did not answer: not reachable, or the client's own timeout passed.</summary>
    Unreachable,

    /// <summary>The gateway answered with an error (its status, and OpenAI's <c>error</c> object).</summary>
    Refused,

    /// <summary>The answer started and broke off, or a stream failed or ended without a finish.</summary>
    BrokeOff,

    /// <summary>The answer is not what the API says it is.</summary>
    Malformed,

    /// <summary>The answer is larger than the client reads (<see cref="GatewayClient.MaxAnswerBytes"/>).</summary>
    TooLarge,
}

/// <summary>A call without an answer: why, and for a refusal the gateway's status and error.</summary>
public sealed class GatewayException(GatewayFailure failure, string message, Exception? inner = null) : Exception(message, inner)
{
    public GatewayFailure Failure { get; } = failure;

    public int? Status { get; init; }

    /// <summary>OpenAI's <c>error.code</c>, such as <c>idempotency_key_in_use</c> or <c>upstream_error</c>.</summary>
    public string? Code { get; init; }

    /// <summary>OpenAI's <c>error.type</c>, such as <c>insufficient_quota</c> or <c>invalid_request_error</c>.</summary>
    public string? Type { get; init; }

    /// <summary>When the gateway says to ask again (<c>Retry-After</c>), as it does for a rate or a call in flight.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
