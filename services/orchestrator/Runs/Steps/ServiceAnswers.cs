using System.Net;
using System.Text.Json;

namespace Platform.Orchestrator.Runs.Steps;

/// <summary>Reads other services' answers the same way for every step kind.</summary>
internal static class ServiceAnswers
{
    private static readonly TimeSpan DefaultRetry = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Whether a refusal is the platform's momentary state rather than the step's fault: a restart (5xx, no answer),
    /// a run key the services do not know yet (401, until the index has it), a rate limit or a call still in flight (409).
    /// </summary>
    public static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;

    public static TimeSpan RetryAfter(HttpResponseMessage response) =>
        RetryAfter(response.Headers.RetryAfter is { } retry ? retry.Delta ?? retry.Date - DateTimeOffset.UtcNow : null);

    /// <summary>The delay a refusal asked for, within bounds; a second without one.</summary>
    public static TimeSpan RetryAfter(TimeSpan? delay) => delay is { } asked ? Clamp(asked) : DefaultRetry;

    /// <summary>Whether a refusal may pass when the same request is made again: only a body saying <c>"retryable": false</c> says it cannot.</summary>
    public static bool IsRetryable(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return !(document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("retryable", out var retryable)
                && retryable.ValueKind == JsonValueKind.False);
        }
        catch (JsonException)
        {
            return true;
        }
    }

    /// <summary>The message of a problem+json or OpenAI-shaped error, or the start of the body.</summary>
    public static string Describe(HttpStatusCode status, string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message))
                {
                    return $"{(int)status}: {message.GetString()}";
                }

                if (root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String)
                {
                    return $"{(int)status}: {detail.GetString()}";
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the text itself says what went wrong.
        }

        return $"{(int)status}: {(body.Length > 300 ? body[..300] + "…" : body)}";
    }

    private static TimeSpan Clamp(TimeSpan delay) =>
        delay < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : delay > TimeSpan.FromSeconds(30) ? TimeSpan.FromSeconds(30) : delay;
}
