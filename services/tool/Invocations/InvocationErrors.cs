namespace Platform.Tool.Invocations;

/// <summary>
/// Why an invocation failed, as the API names it (<c>errorCode</c> on a failed invocation, <c>code</c> on a refused
/// one), and whether the same arguments to the same tool may succeed when called again. Arguments a tool refuses are
/// refused every time, so a caller does something else rather than retry; a timeout, a failing endpoint or MCP
/// server may pass.
/// </summary>
public static class InvocationErrors
{
    /// <summary>The arguments do not match the tool's schema (400).</summary>
    public const string InvalidArguments = "invalid_arguments";

    /// <summary>The request around the arguments is invalid: its idempotency key, run or step id (400).</summary>
    public const string InvalidRequest = "invalid_request";

    /// <summary>The tool refused these arguments when it ran: a pure built-in could not evaluate them, a URL could not be built from them.</summary>
    public const string ArgumentsRejected = "arguments_rejected";

    /// <summary>The tool failed: its endpoint answered an error, its MCP server failed, the network or the SSRF guard stood in the way.</summary>
    public const string ToolFailed = "tool_failed";

    public const string TimedOut = "timed_out";

    /// <summary>The tool threw something it does not describe; the service logged it.</summary>
    public const string Unexpected = "unexpected_error";

    /// <summary>The tool's stored schema cannot be used (409) until it is registered again.</summary>
    public const string ToolUnusable = "tool_unusable";

    /// <summary>The idempotency key was used for another call (409).</summary>
    public const string IdempotencyKeyReused = "idempotency_key_reused";

    public const string RateLimited = "rate_limited";

    /// <summary>
    /// Whether the same arguments to the same tool may succeed later; null for a refusal of the request around them,
    /// which says nothing of the call. An invocation recorded before codes existed may, as callers assumed then.
    /// </summary>
    public static bool? Retryable(string? code) => code switch
    {
        InvalidRequest or IdempotencyKeyReused => null,
        InvalidArguments or ArgumentsRejected or ToolUnusable => false,
        _ => true,
    };
}
