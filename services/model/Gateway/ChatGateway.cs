using System.Diagnostics;
using Microsoft.Extensions.Options;
using Platform.Model.Budgets;
using Platform.Model.Catalog;
using Platform.Model.Providers;
using Platform.Model.Ledger;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Model.Gateway;

/// <summary>
/// One chat request through the gateway: claim its Idempotency-Key (or replay the answer stored under it), resolve the
/// alias, serve from cache when allowed, reserve budget and rate limits, route to a deployment, answer (plain or
/// streamed), settle the real cost, and record usage.
/// </summary>
public sealed class ChatGateway(
    ModelCatalog catalog, ChatRouter router, ResponseCache cache, IdempotencyStore idempotency, BudgetGate budgets, UsageLedger ledger,
    IOptionsMonitor<ModelGatewayOptions> options, TimeProvider time)
{
    // Reservations allow for an upstream counting more than the gateway: it renders tool definitions its own way, and
    // Claude's prompts are only estimated. Output is bounded by max_tokens.
    private const double PromptMargin = 1.5;

    public async Task HandleAsync(HttpContext context, ChatRequest request, string? idempotencyKey)
    {
        var started = Stopwatch.GetTimestamp();
        using var activity = GatewayTelemetry.StartChat(request.Model);
        if (idempotencyKey is null)
        {
            await RunAsync(context, request, null, activity, started);
            return;
        }

        var lookup = await idempotency.ClaimAsync(context.User.TenantId(), idempotencyKey, request);
        if (lookup.Claim is { } claim)
        {
            await using (claim)
            {
                await RunAsync(context, request, claim, activity, started);
            }
        }
        else if (lookup.Stored is { Answer: var answer } stored)
        {
            // The call was made and paid for once: answering again costs nothing and is not a new call for the ledger.
            activity?.SetTag("platform.idempotent_replay", true);
            context.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
            SetHeaders(context, answer.Deployment, answer.Provider, Stopwatch.GetElapsedTime(started));
            await ChatResponses.WriteAsync(context, request, answer.Completion, answer.Provider, stored.CostUsd);
        }
        else
        {
            if (lookup.Error!.Code is "idempotency_key_in_use" or "idempotency_unavailable")
            {
                context.Response.Headers.RetryAfter = "1";
            }

            await lookup.Error.WriteAsync(context);
        }
    }

    private async Task RunAsync(HttpContext context, ChatRequest request, IdempotencyClaim? claim, Activity? activity, long started)
    {
        var tenantId = context.User.TenantId();
        var route = await catalog.ResolveAsync(tenantId, request.Model);
        if (route is null)
        {
            await OpenAiError.ModelNotFound(request.Model).WriteAsync(context);
            return;
        }

        var outcome = new Outcome(request.Model, claim?.Key);
        var cacheKey = ResponseCache.KeyFor(tenantId, request, context.Request.Headers);
        var cached = cacheKey is null ? null : await cache.GetAsync(cacheKey);
        if (cacheKey is not null)
        {
            context.Response.Headers["x-cache"] = cached is null ? "miss" : "hit";
        }

        var (worstUsd, worstTokens) = cached is null ? WorstCase(route, request) : (0m, 0);
        var reservation = await budgets.ReserveAsync(tenantId, context.User.KeyId(), worstUsd, worstTokens);
        if (!reservation.Granted)
        {
            outcome.Status = StatusCodes.Status429TooManyRequests;
            outcome.ErrorType = OpenAiError.Refused(reservation).Code;
            await OpenAiError.WriteRefusalAsync(context, reservation);
            Finish(context, activity, outcome, started);
            return;
        }

        try
        {
            if (cached is not null)
            {
                outcome.Served(cached.Deployment, cached.Provider, cached.Completion.Model, cached.Completion.Usage, 0m);
                outcome.CacheHit = true;
                await RememberAsync(claim, cached, 0m);
                SetHeaders(context, cached.Deployment, cached.Provider, Stopwatch.GetElapsedTime(started));
                await ChatResponses.WriteAsync(context, request, cached.Completion, cached.Provider, 0m);
            }
            else if (request.Stream)
            {
                await StreamAsync(context, request, route, cacheKey, claim, outcome, started);
            }
            else
            {
                var routed = await router.CompleteAsync(request, route, UpstreamToken(context, claim));
                var deployment = routed.Deployment;
                outcome.Served(deployment.Name, deployment.Provider, routed.Completion.Model, routed.Completion.Usage,
                    deployment.Cost(routed.Completion.Usage.PromptTokens, routed.Completion.Usage.CompletionTokens));
                var answer = new CachedCompletion(routed.Completion, deployment.Name, deployment.Provider);
                // Stored before it is sent: a caller that dies waiting for this answer finds it when it repeats the request.
                await RememberAsync(claim, answer, outcome.CostUsd);
                SetHeaders(context, deployment.Name, deployment.Provider, Stopwatch.GetElapsedTime(started) - routed.UpstreamTime);
                await ChatResponses.WriteAsync(context, request, routed.Completion, deployment.Provider, outcome.CostUsd);
                if (cacheKey is not null)
                {
                    await cache.SetAsync(cacheKey, answer);
                }
            }
        }
        catch (RoutingException e)
        {
            outcome.Status = e.Error.Status;
            outcome.ErrorType = e.Error.Code;
            await e.Error.WriteAsync(context);
        }
        finally
        {
            await budgets.SettleAsync(reservation, outcome.CostUsd, outcome.Usage?.TotalTokens ?? 0);
            Finish(context, activity, outcome, started);
        }
    }

    private static Task RememberAsync(IdempotencyClaim? claim, CachedCompletion answer, decimal costUsd) =>
        claim is null ? Task.CompletedTask : claim.CompleteAsync(answer, costUsd);

    private async Task StreamAsync(HttpContext context, ChatRequest request, ModelRoute route, string? cacheKey, IdempotencyClaim? claim, Outcome outcome, long started)
    {
        var routed = await router.StreamAsync(request, route, UpstreamToken(context, claim));
        var deployment = routed.Deployment;
        SetHeaders(context, deployment.Name, deployment.Provider, Stopwatch.GetElapsedTime(started) - routed.TimeToFirstChunk);
        var assembled = new CompletionChunks.Assembler();
        var stream = new ChatResponses.Stream(context, request, deployment.UpstreamModel, deployment.Provider);
        var clientGone = false;
        Usage usage;
        try
        {
            await using (var chunks = routed.Chunks)
            {
                bool more;
                do
                {
                    assembled.Add(chunks.Current);
                    var chunk = chunks.Current;
                    clientGone = clientGone || !await TrySendAsync(() => stream.WriteAsync(chunk), context, claim);
                    var next = chunks.MoveNextAsync();
                    if (!next.IsCompleted)
                    {
                        clientGone = clientGone || !await TrySendAsync(stream.FlushAsync, context, claim);
                    }

                    more = await next;
                }
                while (more);
            }
        }
        catch (Exception e) when (e is UpstreamException or IOException or HttpRequestException or System.Text.Json.JsonException)
        {
            // The stream has started: it is never retried. The client learns why it ended early.
            outcome.Status = StatusCodes.Status502BadGateway;
            outcome.ErrorType = "upstream_error";
            await stream.FailAsync(OpenAiError.UpstreamFailed($"{deployment.Name} failed mid-stream: {e.Message}"));
            return;
        }
        finally
        {
            // What was streamed is what is owed, even when the stream broke or the client left.
            var counter = TokenCounter.For(deployment);
            usage = assembled.Usage ?? new Usage(counter.Prompt(request), counter.Count(assembled.Text));
            outcome.Served(deployment.Name, deployment.Provider, deployment.UpstreamModel, usage, deployment.Cost(usage.PromptTokens, usage.CompletionTokens));
        }

        var answer = new CachedCompletion(assembled.ToCompletion(stream.Id, stream.Created, deployment.UpstreamModel, usage), deployment.Name, deployment.Provider);
        await RememberAsync(claim, answer, outcome.CostUsd);
        if (clientGone)
        {
            return;
        }

        await stream.CompleteAsync(assembled.Usage, outcome.CostUsd);
        if (cacheKey is not null && assembled.Usage is not null)
        {
            await cache.SetAsync(cacheKey, answer);
        }
    }

    /// <summary>
    /// A keyed call is finished and stored even when its caller leaves: the caller (a run resuming after a crash, say)
    /// asks again with the same key and must get the answer already paid for, not a second call.
    /// </summary>
    private static CancellationToken UpstreamToken(HttpContext context, IdempotencyClaim? claim) =>
        claim is null ? context.RequestAborted : CancellationToken.None;

    /// <summary>Writes or flushes; false when a keyed call's caller has left, whose stream is then read to its end unsent.</summary>
    private static async Task<bool> TrySendAsync(Func<Task> send, HttpContext context, IdempotencyClaim? claim)
    {
        try
        {
            await send();
            return true;
        }
        catch (Exception e) when (claim is not null && context.RequestAborted.IsCancellationRequested && e is IOException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The most this request can cost on any deployment of the alias, and the most tokens it can use.</summary>
    private (decimal Usd, int Tokens) WorstCase(ModelRoute route, ChatRequest request)
    {
        var prompts = TokenCounter.PerDeployment(c => c.Prompt(request));
        var worstUsd = 0m;
        var worstTokens = 0;
        foreach (var deployment in route.Deployments)
        {
            var prompt = (int)Math.Ceiling(prompts(deployment) * PromptMargin);
            var output = request.MaxTokens ?? Math.Max(1, Math.Min(options.CurrentValue.DefaultMaxOutputTokens, deployment.ContextWindow - prompt));
            worstUsd = Math.Max(worstUsd, deployment.Cost(prompt, output));
            worstTokens = Math.Max(worstTokens, prompt + output);
        }

        return (worstUsd, worstTokens);
    }

    private void Finish(HttpContext context, Activity? activity, Outcome outcome, long started)
    {
        var elapsed = Stopwatch.GetElapsedTime(started);
        GatewayTelemetry.Completed(activity, context.User.TenantId(), outcome.RequestModel, outcome.Provider, outcome.ResponseModel, outcome.Usage, outcome.CostUsd,
            outcome.CacheHit, elapsed, outcome.ErrorType);
        ledger.Record(new UsageRecord(
            time.GetUtcNow().UtcDateTime, context.User.TenantId(), context.User.KeyId(), outcome.RequestModel, outcome.Deployment,
            outcome.Usage?.PromptTokens ?? 0, outcome.Usage?.CompletionTokens ?? 0, outcome.CostUsd, (int)elapsed.TotalMilliseconds,
            outcome.CacheHit, context.RequestAborted.IsCancellationRequested && outcome.Status == 200 ? 499 : outcome.Status,
            Activity.Current?.TraceId.ToString(), outcome.IdempotencyKey));
    }

    /// <summary>Which deployment answered, and the time spent in the gateway itself, upstream time excluded.</summary>
    private static void SetHeaders(HttpContext context, string deployment, string provider, TimeSpan overhead)
    {
        context.Response.Headers["x-platform-provider"] = provider;
        context.Response.Headers["x-platform-deployment"] = deployment;
        context.Response.Headers["x-platform-overhead-ms"] = Math.Max(0, overhead.TotalMilliseconds).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        GatewayTelemetry.GatewayOverhead(overhead);
    }

    /// <summary>What became of a request, for the ledger, the budget and telemetry.</summary>
    private sealed class Outcome(string requestModel, string? idempotencyKey)
    {
        public string RequestModel { get; } = requestModel;

        public string? IdempotencyKey { get; } = idempotencyKey;

        public string? Deployment { get; private set; }

        public string? Provider { get; private set; }

        public string? ResponseModel { get; private set; }

        public Usage? Usage { get; private set; }

        public decimal CostUsd { get; private set; }

        public bool CacheHit { get; set; }

        public int Status { get; set; } = StatusCodes.Status200OK;

        public string? ErrorType { get; set; }

        public void Served(string deployment, string provider, string responseModel, Usage usage, decimal costUsd)
        {
            (Deployment, Provider, ResponseModel, Usage, CostUsd) = (deployment, provider, responseModel, usage, costUsd);
        }
    }
}
