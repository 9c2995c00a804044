using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Platform.Model.Gateway;

/// <summary>Spans and metrics named by the OpenTelemetry GenAI semantic conventions, with the cost on the span.</summary>
public static class GatewayTelemetry
{
    private static readonly ActivitySource Source = new(Microsoft.Extensions.Hosting.Extensions.PlatformSourceName);
    private static readonly Meter Meter = new(Microsoft.Extensions.Hosting.Extensions.PlatformSourceName);

    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "gen_ai.client.operation.duration", "s", "Duration of GenAI operations through the gateway");

    private static readonly Histogram<long> TokenUsage = Meter.CreateHistogram<long>(
        "gen_ai.client.token.usage", "{token}", "Tokens used by GenAI operations through the gateway");

    // By tenant, like the budget gauge: spend is what an operator reads per tenant, and tenants are few next to requests.
    // The unit is an annotation so that the Prometheus name stays platform_model_spend_usd_total.
    private static readonly Counter<double> Spend = Meter.CreateCounter<double>(
        "platform.model.spend.usd", "{USD}", "What the gateway's answers cost, by tenant");

    // The gateway's own time is milliseconds, far below the default buckets' resolution.
    private static readonly Histogram<double> OverheadDuration = Meter.CreateHistogram<double>(
        "platform.model.gateway.overhead", "s", "Time a chat request spent in the gateway itself, upstream time excluded",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });

    public static Activity? StartChat(string requestModel)
    {
        var activity = Source.StartActivity($"chat {requestModel}", ActivityKind.Client);
        activity?.SetTag("gen_ai.operation.name", "chat");
        activity?.SetTag("gen_ai.request.model", requestModel);
        return activity;
    }

    /// <summary>The gateway's own share of a request, as its <c>x-platform-overhead-ms</c> header reports it.</summary>
    public static void GatewayOverhead(TimeSpan overhead) => OverheadDuration.Record(Math.Max(0, overhead.TotalSeconds));

    public static void Completed(Activity? activity, string tenantId, string requestModel, string? provider, string? responseModel, Usage? usage, decimal costUsd,
        bool cacheHit, TimeSpan duration, string? errorType)
    {
        var tags = new TagList
        {
            { "gen_ai.operation.name", "chat" },
            { "gen_ai.request.model", requestModel },
            { "gen_ai.provider.name", provider },
            { "gen_ai.response.model", responseModel },
        };
        if (errorType is not null)
        {
            tags.Add("error.type", errorType);
        }

        Duration.Record(duration.TotalSeconds, tags);
        Spend.Add((double)costUsd, new KeyValuePair<string, object?>("tenant", tenantId));
        if (usage is not null)
        {
            TokenUsage.Record(usage.PromptTokens, [.. tags, new("gen_ai.token.type", "input")]);
            TokenUsage.Record(usage.CompletionTokens, [.. tags, new("gen_ai.token.type", "output")]);
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag("gen_ai.provider.name", provider);
        activity.SetTag("gen_ai.response.model", responseModel);
        activity.SetTag("gen_ai.usage.input_tokens", usage?.PromptTokens);
        activity.SetTag("gen_ai.usage.output_tokens", usage?.CompletionTokens);
        activity.SetTag("platform.cost_usd", (double)costUsd);
        activity.SetTag("platform.cache_hit", cacheHit);
        if (errorType is not null)
        {
            activity.SetTag("error.type", errorType);
            activity.SetStatus(ActivityStatusCode.Error);
        }
    }
}
