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

    public static Activity? StartChat(string requestModel)
    {
        var activity = Source.StartActivity($"chat {requestModel}", ActivityKind.Client);
        activity?.SetTag("gen_ai.operation.name", "chat");
        activity?.SetTag("gen_ai.request.model", requestModel);
        return activity;
    }

    public static void Completed(Activity? activity, string requestModel, string? provider, string? responseModel, Usage? usage, decimal costUsd,
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
