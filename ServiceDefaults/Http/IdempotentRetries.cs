using System.Net.Http.Headers;
using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// The standard resilience handler retries transient failures; here a request is retried only when repeating it cannot
/// repeat a side effect: safe and idempotent methods, or an unsafe one carrying an <c>Idempotency-Key</c>.
/// </summary>
internal static class IdempotentRetries
{
    public static void Configure(HttpStandardResilienceOptions options)
    {
        var transient = options.Retry.ShouldHandle;
        options.Retry.ShouldHandle = async args =>
            await transient(args) && args.Context.GetRequestMessage() is { } request && MayRepeat(request);
    }

    private static bool MayRepeat(HttpRequestMessage request)
    {
        if (request.Options.TryGetValue(ResilienceRequestOptions.NoRetries, out var noRetries) && noRetries)
        {
            return false;
        }

        var method = request.Method;
        return method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
            || method == HttpMethod.Put || method == HttpMethod.Delete
            || request.Headers.Contains("Idempotency-Key");
    }
}

public static class ResilienceRequestOptions
{
    /// <summary>Set on a request whose caller wants the first answer, such as a health probe.</summary>
    public static readonly HttpRequestOptionsKey<bool> NoRetries = new("platform.no-retries");
}
