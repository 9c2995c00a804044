using System.Collections.Concurrent;
using System.Net;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// The standard resilience pipeline of Aspire's service defaults, built on Polly.Core: total timeout, retry with
/// exponential backoff and jitter honouring <c>Retry-After</c>, a circuit breaker per destination, attempt timeout.
/// Unsafe methods are retried only when they carry an <c>Idempotency-Key</c>, so a retry never repeats a side effect.
/// </summary>
internal sealed class StandardResilienceHandler(ResiliencePipelines pipelines) : DelegatingHandler
{
    public static readonly ResiliencePropertyKey<HttpRequestMessage> RequestKey = new("platform.request");

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var pipeline = pipelines.For(request.RequestUri?.GetLeftPart(UriPartial.Authority) ?? "");
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(RequestKey, request);
        try
        {
            return await pipeline.ExecuteAsync(
                static async (ctx, state) => await state.Handler.BaseSendAsync(state.Request, ctx.CancellationToken),
                context, (Handler: this, Request: request));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private Task<HttpResponseMessage> BaseSendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
        base.SendAsync(request, cancellationToken);
}

/// <summary>One pipeline per destination, shared by every client, so circuit state outlives handler rotation.</summary>
internal sealed class ResiliencePipelines
{
    private readonly ConcurrentDictionary<string, ResiliencePipeline<HttpResponseMessage>> _pipelines = new();

    public ResiliencePipeline<HttpResponseMessage> For(string authority) => _pipelines.GetOrAdd(authority, static _ => Create());

    private static ResiliencePipeline<HttpResponseMessage> Create() =>
        new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddTimeout(TimeSpan.FromSeconds(30))
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromSeconds(1),
                ShouldHandle = args => ValueTask.FromResult(IsRetryable(args.Context, args.Outcome)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result)),
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions<HttpResponseMessage>
            {
                FailureRatio = 0.1,
                MinimumThroughput = 100,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = TimeSpan.FromSeconds(5),
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
            })
            .AddTimeout(TimeSpan.FromSeconds(10))
            .Build();

    private static bool IsRetryable(ResilienceContext context, Outcome<HttpResponseMessage> outcome)
    {
        if (!IsTransient(outcome) || !context.Properties.TryGetValue(StandardResilienceHandler.RequestKey, out var request))
        {
            return false;
        }

        if (request.Options.TryGetValue(ResilienceRequestOptions.NoRetries, out var noRetries) && noRetries)
        {
            return false;
        }

        var method = request.Method;
        var safe = method == HttpMethod.Get || method == HttpMethod.Head || method == HttpMethod.Options
            || method == HttpMethod.Put || method == HttpMethod.Delete;
        return safe || request.Headers.Contains("Idempotency-Key");
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result: { } response } => response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
            || (int)response.StatusCode >= 500,
        _ => false,
    };

    private static TimeSpan? RetryAfter(HttpResponseMessage? response)
    {
        var retryAfter = response?.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        return retryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null;
    }
}

public static class ResilienceRequestOptions
{
    /// <summary>Set on a request whose caller wants the first answer, such as a health probe.</summary>
    public static readonly HttpRequestOptionsKey<bool> NoRetries = new("platform.no-retries");
}
