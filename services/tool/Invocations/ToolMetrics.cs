using System.Diagnostics.Metrics;

namespace Platform.Tool.Invocations;

/// <summary>
/// Tool calls this replica executed (not replays), by tool kind (builtin, http, mcp) and outcome, with their duration:
/// tool names stay out of the labels, since every tenant may register any number.
/// </summary>
public static class ToolMetrics
{
    private static readonly Meter Meter = new(Microsoft.Extensions.Hosting.Extensions.PlatformSourceName);
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>(
        "platform.tool.invocation.duration", "s", "Duration of tool calls executed, by tool kind and outcome");

    public static void Executed(string kind, string status, TimeSpan elapsed) =>
        Duration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("tool.kind", kind), new KeyValuePair<string, object?>("status", status));
}
