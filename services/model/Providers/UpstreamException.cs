using System.Net;

namespace Platform.Model.Providers;

/// <summary>An upstream's failure, classified for the router: retry, fall back, or give up.</summary>
public sealed class UpstreamException(string message, HttpStatusCode? status, TimeSpan? retryAfter, bool contextWindowExceeded, Exception? inner = null)
    : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The prompt does not fit: another deployment with a larger window may still serve it.</summary>
    public bool ContextWindowExceeded { get; } = contextWindowExceeded;

    public bool IsTimeout => Status is null && InnerException is TimeoutException or TaskCanceledException;

    /// <summary>Worth another attempt: rate limits, server errors, timeouts and dropped connections.</summary>
    public bool IsTransient => Status is null || Status == HttpStatusCode.TooManyRequests || (int)Status >= 500;

    public static async Task<UpstreamException> FromResponseAsync(HttpResponseMessage response, string deployment, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
            : null;
        var contextWindow = body.Contains("context_length_exceeded", StringComparison.Ordinal)
            || body.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase)
            || body.Contains("maximum context length", StringComparison.OrdinalIgnoreCase);
        return new UpstreamException($"{deployment} answered {(int)response.StatusCode}", response.StatusCode, retryAfter, contextWindow);
    }
}
