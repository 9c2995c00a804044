using System.Net;
using System.Text;
using System.Text.Json;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>How the router treats a failed attempt.</summary>
public enum UpstreamFailure
{
    /// <summary>A rate limit, a server error, a timeout or a dropped connection: retried, then the deployment cools down.</summary>
    Transient,

    /// <summary>The prompt does not fit: another deployment with a larger window may still serve it.</summary>
    ContextWindow,

    /// <summary>The upstream refused the request itself (400, 404, 413, 422): the client's mistake, passed back as is.</summary>
    Request,

    /// <summary>Nothing was sent: the outbound guard refused the deployment's address. Another deployment may serve.</summary>
    Refused,

    /// <summary>The deployment does not work as configured (its key is refused, or cannot be decrypted): not retried.</summary>
    Deployment,
}

/// <summary>
/// An upstream's failure, classified for the router. Only <see cref="UpstreamFailure.Transient"/> failures say anything
/// about the upstream's health, so only they may cool a deployment down for every tenant.
/// </summary>
public sealed class UpstreamException(string message, UpstreamFailure failure, HttpStatusCode? status = null, TimeSpan? retryAfter = null, Exception? inner = null)
    : Exception(message, inner)
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    public UpstreamFailure Failure { get; } = failure;

    public HttpStatusCode? Status { get; } = status;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>For a <see cref="UpstreamFailure.Request"/> failure: the error to pass back to the client.</summary>
    public OpenAiError? ClientError { get; init; }

    public bool IsTimeout => Status is null && InnerException is TimeoutException or TaskCanceledException;

    public static async Task<UpstreamException> FromResponseAsync(HttpResponseMessage response, string deployment, CancellationToken cancellationToken)
    {
        var body = await ReadBoundedAsync(response, cancellationToken);
        var status = (int)response.StatusCode;
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null)
            : null;
        var message = $"{deployment} answered {status}";
        if (body.Contains("context_length_exceeded", StringComparison.Ordinal)
            || body.Contains("prompt is too long", StringComparison.OrdinalIgnoreCase)
            || body.Contains("maximum context length", StringComparison.OrdinalIgnoreCase))
        {
            return new UpstreamException(message, UpstreamFailure.ContextWindow, response.StatusCode, retryAfter);
        }

        return status switch
        {
            408 or 429 or >= 500 => new UpstreamException(message, UpstreamFailure.Transient, response.StatusCode, retryAfter),
            400 or 404 or 413 or 422 => new UpstreamException(message, UpstreamFailure.Request, response.StatusCode)
            {
                ClientError = ClientErrorFrom(status, body, deployment),
            },
            _ => new UpstreamException(message, UpstreamFailure.Deployment, response.StatusCode),
        };
    }

    /// <summary>The upstream's own message, param and code, read from OpenAI's or Anthropic's error shape.</summary>
    private static OpenAiError ClientErrorFrom(int status, string body, string deployment)
    {
        string? message = null, param = null, code = null;
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error)
                && error.ValueKind == JsonValueKind.Object)
            {
                message = Text(error, "message");
                param = Text(error, "param");
                code = Text(error, "code");
            }
        }
        catch (JsonException)
        {
            // Not JSON: the status alone tells the client what kind of mistake it was.
        }

        var detail = message is null ? $"{deployment} refused the request ({status})." : $"{deployment} refused the request: {Shorten(message)}";
        return new OpenAiError(status, detail, "invalid_request_error", Shorten(param), Shorten(code));
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? Shorten(string? text) => text is { Length: > 1000 } ? text[..1000] + "…" : text;

    /// <summary>An error body is read only so far: an upstream cannot make the gateway hold an endless one.</summary>
    private static async Task<string> ReadBoundedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxErrorBodyBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return Encoding.UTF8.GetString(buffer, 0, total);
    }
}
