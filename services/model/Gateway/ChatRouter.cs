using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.Model.Catalog;
using Platform.Model.Providers;

namespace Platform.Model.Gateway;

/// <summary>
/// Chooses deployments for an alias (ordered, weighted or lowest-latency), retries each with exponential backoff and
/// full jitter honouring Retry-After, and falls back on rate limits, server errors, timeouts, context-window errors and
/// addresses the outbound guard refuses. A deployment that keeps failing cools down for every replica; a request the
/// upstream refuses is passed back and cools nothing down. A stream is only retried before its first chunk.
/// </summary>
public sealed class ChatRouter(ProviderRegistry providers, DeploymentHealth health, IOptionsMonitor<ModelGatewayOptions> options, ILogger<ChatRouter> logger)
{
    /// <summary>Embeddings go to the alias's deployments whose provider has them, with the same retries and fallbacks.</summary>
    public async Task<(ModelDeployment Deployment, EmbeddingResult Result)> EmbedAsync(EmbeddingRequest request, ModelRoute route, CancellationToken cancellationToken)
    {
        var capable = Capable(route, d => providers.Embeddings(d.Provider) is not null, "embeddings");
        // Each input is embedded on its own: it is the longest that must fit the model's window, not their sum.
        var routed = await RouteAsync(TokenCounter.PerDeployment(c => request.Inputs.Max(c.Count)), capable,
            (deployment, token) => providers.Embeddings(deployment.Provider)!.EmbedAsync(request, deployment, token), cancellationToken);
        return (routed.Deployment, routed.Result);
    }

    public async Task<RoutedCompletion> CompleteAsync(ChatRequest request, ModelRoute route, CancellationToken cancellationToken)
    {
        var routed = await RouteAsync(TokenCounter.PerDeployment(c => c.Prompt(request)), ChatCapable(route),
            (deployment, token) => providers.Chat(deployment.Provider)!.CompleteAsync(request, deployment, token), cancellationToken);
        return new RoutedCompletion(routed.Deployment, routed.Result, routed.Elapsed);
    }

    /// <summary>Returns once a deployment has produced its first chunk; from then on the stream is never retried.</summary>
    public async Task<RoutedStream> StreamAsync(ChatRequest request, ModelRoute route, CancellationToken cancellationToken)
    {
        var routed = await RouteAsync(TokenCounter.PerDeployment(c => c.Prompt(request)), ChatCapable(route), async (deployment, token) =>
        {
            var stream = providers.Chat(deployment.Provider)!.StreamAsync(request, deployment, cancellationToken).GetAsyncEnumerator(token);
            try
            {
                if (!await stream.MoveNextAsync())
                {
                    throw new UpstreamException($"{deployment.Name} ended the stream before any chunk", UpstreamFailure.Transient, System.Net.HttpStatusCode.BadGateway);
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException or System.Text.Json.JsonException)
            {
                await stream.DisposeAsync();
                throw new UpstreamException($"{deployment.Name} failed before its first chunk: {e.Message}", UpstreamFailure.Transient, inner: e);
            }
            catch
            {
                await stream.DisposeAsync();
                throw;
            }

            return stream;
        }, cancellationToken);
        return new RoutedStream(routed.Deployment, routed.Result, routed.Elapsed);
    }

    private ModelRoute ChatCapable(ModelRoute route) => Capable(route, d => providers.Chat(d.Provider) is not null, "chat completions");

    /// <summary>The alias's deployments whose provider serves <paramref name="what"/>; none is the request's mistake.</summary>
    private static ModelRoute Capable(ModelRoute route, Func<ModelDeployment, bool> serves, string what)
    {
        var capable = route with { Deployments = route.Deployments.Where(serves).ToList() };
        return capable.Deployments.Count > 0
            ? capable
            : throw new RoutingException(OpenAiError.InvalidRequest($"The model '{route.Alias}' does not support {what}.", "model", "model_not_supported"));
    }

    private async Task<(ModelDeployment Deployment, T Result, TimeSpan Elapsed)> RouteAsync<T>(
        Func<ModelDeployment, int> promptTokens, ModelRoute route, Func<ModelDeployment, CancellationToken, Task<T>> attempt, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var candidates = await OrderAsync(route, promptTokens);
        if (candidates.Count == 0)
        {
            throw new RoutingException(OpenAiError.InvalidRequest(
                $"This request needs about {route.Deployments.Select(promptTokens).DefaultIfEmpty().Min()} tokens, more than any deployment of '{route.Alias}' accepts.", "messages", "context_length_exceeded"));
        }

        using var total = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        total.CancelAfter(settings.TotalTimeout);
        var failures = new List<UpstreamException>();
        foreach (var deployment in candidates)
        {
            for (var retry = 0; ; retry++)
            {
                using var attemptTimeout = CancellationTokenSource.CreateLinkedTokenSource(total.Token);
                attemptTimeout.CancelAfter(deployment.AttemptTimeout ?? settings.AttemptTimeout);
                var started = Stopwatch.GetTimestamp();
                UpstreamException failure;
                try
                {
                    var result = await attempt(deployment, attemptTimeout.Token);
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    health.RecordLatency(deployment, elapsed);
                    return (deployment, result, elapsed);
                }
                catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
                {
                    failure = new UpstreamException($"{deployment.Name} timed out", UpstreamFailure.Transient, inner: new TimeoutException(e.Message, e));
                }
                catch (UpstreamException e)
                {
                    failure = e;
                }
                catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException or IOException or HttpRequestException)
                {
                    // An answer the gateway cannot read is the upstream's failure, not the client's, and not a 500.
                    failure = new UpstreamException($"{deployment.Name} sent a response the gateway could not read ({e.Message})",
                        UpstreamFailure.Transient, System.Net.HttpStatusCode.BadGateway, inner: e);
                }

                failures.Add(failure);
                logger.LogWarning("Attempt {Retry} on {Deployment} failed: {Failure}", retry + 1, deployment.Name, failure.Message);
                switch (failure.Failure)
                {
                    case UpstreamFailure.Request:
                        throw new RoutingException(failure.ClientError!);
                    case UpstreamFailure.Deployment:
                        throw new RoutingException(OpenAiError.UpstreamFailed($"{failure.Message}; the request was not retried."));
                }

                if (failure.Failure != UpstreamFailure.Transient || !await WaitToRetryAsync(deployment, failure, retry, settings, total.Token, cancellationToken))
                {
                    break;
                }
            }

            if (total.IsCancellationRequested)
            {
                break;
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        throw new RoutingException(Exhausted(route, failures));
    }

    /// <summary>Waits to retry a transient failure on the same deployment; false, after cooling it down, when it is time to fall back.</summary>
    private async Task<bool> WaitToRetryAsync(ModelDeployment deployment, UpstreamException failure, int retry, ModelGatewayOptions settings,
        CancellationToken total, CancellationToken cancellationToken)
    {
        var delay = failure.RetryAfter ?? FullJitter(settings.RetryBaseDelay, retry);
        if (retry >= settings.MaxRetries || delay > settings.MaxRetryAfter || total.IsCancellationRequested)
        {
            await health.CoolDownAsync(deployment, failure.RetryAfter is { } retryAfter && retryAfter > settings.Cooldown ? retryAfter : settings.Cooldown);
            return false;
        }

        try
        {
            await Task.Delay(delay, total);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Every deployment failed. When none of them failed through its upstream's health (the prompt fits none, or the
    /// guard refused their addresses), the request cannot be served as it is: a 400, not an upstream failure.
    /// </summary>
    private static OpenAiError Exhausted(ModelRoute route, List<UpstreamException> failures)
    {
        var message = $"No deployment of '{route.Alias}' could answer: {string.Join("; ", failures.Select(f => f.Message))}.";
        if (failures.All(f => f.Failure == UpstreamFailure.ContextWindow))
        {
            return OpenAiError.InvalidRequest(message, "messages", "context_length_exceeded");
        }

        if (failures.All(f => f.Failure is UpstreamFailure.ContextWindow or UpstreamFailure.Refused))
        {
            return OpenAiError.InvalidRequest(message, "model", "upstream_address_refused");
        }

        return failures.All(f => f.IsTimeout)
            ? new OpenAiError(StatusCodes.Status504GatewayTimeout, message, "api_error", null, "upstream_timeout")
            : OpenAiError.UpstreamFailed(message);
    }

    /// <summary>The deployments to try, in order: those whose window fits the prompt as their model counts it, cooling-down ones last.</summary>
    private async Task<List<ModelDeployment>> OrderAsync(ModelRoute route, Func<ModelDeployment, int> promptTokens)
    {
        var fitting = route.Deployments.Where(d => d.ContextWindow >= promptTokens(d)).ToList();
        List<ModelDeployment> ordered;
        switch (route.Strategy)
        {
            case "weighted" when fitting.Count > 1:
                var pick = Random.Shared.Next(fitting.Sum(d => d.Weight));
                var first = fitting.First(d => (pick -= d.Weight) < 0);
                ordered = [first, .. fitting.Where(d => d != first)];
                break;
            case "lowest-latency":
                var latencies = await health.LatenciesAsync(fitting, options.CurrentValue.LatencySampleLifetime);
                ordered = fitting.Zip(latencies).OrderBy(d => d.Second ?? -1).Select(d => d.First).ToList();
                break;
            default:
                ordered = fitting;
                break;
        }

        if (ordered.Count < 2)
        {
            return ordered;
        }

        var coolingDown = new HashSet<ModelDeployment>();
        foreach (var deployment in ordered)
        {
            if (await health.IsCoolingDownAsync(deployment))
            {
                coolingDown.Add(deployment);
            }
        }

        return [.. ordered.Where(d => !coolingDown.Contains(d)), .. ordered.Where(coolingDown.Contains)];
    }

    private static TimeSpan FullJitter(TimeSpan baseDelay, int retry) =>
        TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * baseDelay.TotalMilliseconds * Math.Pow(2, retry));
}

public sealed record RoutedCompletion(ModelDeployment Deployment, ChatCompletion Completion, TimeSpan UpstreamTime);

/// <summary>A stream whose first chunk has arrived and is <c>Chunks.Current</c>.</summary>
public sealed record RoutedStream(ModelDeployment Deployment, IAsyncEnumerator<ChatChunk> Chunks, TimeSpan TimeToFirstChunk);

/// <summary>No deployment could answer; carries the error to send.</summary>
public sealed class RoutingException(OpenAiError error) : Exception(error.Message)
{
    public OpenAiError Error { get; } = error;
}
