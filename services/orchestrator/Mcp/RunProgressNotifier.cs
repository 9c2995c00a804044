using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;
using Platform.Orchestrator.Runs;

namespace Platform.Orchestrator.Mcp;

/// <summary>
/// A tool call's progress notifications, when the client asked for them with a progress token: one when the run is
/// accepted (naming it), then one per event of the run's log, numbered by the event's sequence number so that progress
/// only grows. Token deltas are left out: the log's events say what happened, at a rate a client can follow.
/// </summary>
internal sealed class RunProgressNotifier(McpServer server, ProgressToken? token, Guid runId)
{
    public Task AcceptedAsync(CancellationToken cancellationToken) => NotifyAsync(0, $"run {runId} accepted", cancellationToken);

    public async Task ReportAsync(IReadOnlyList<RunFeedItem> batch, CancellationToken cancellationToken)
    {
        foreach (var entry in batch.OfType<RunLogEntry>())
        {
            using var json = JsonDocument.Parse(entry.Json);
            var step = json.RootElement.TryGetProperty("stepId", out var stepId) && stepId.ValueKind == JsonValueKind.String ? $" {stepId.GetString()}" : "";
            await NotifyAsync(entry.Seq, $"{entry.Type}{step}", cancellationToken);
        }
    }

    private async Task NotifyAsync(long progress, string message, CancellationToken cancellationToken)
    {
        if (token is { } progressToken)
        {
            await server.NotifyProgressAsync(progressToken, new ProgressNotificationValue { Progress = progress, Message = message }, cancellationToken: cancellationToken);
        }
    }
}
