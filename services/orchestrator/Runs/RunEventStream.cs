using System.Text.Json;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// <c>GET /v1/runs/{id}/events</c>: the run's event log as server-sent events whose ids are the log's sequence
/// numbers, so <c>Last-Event-ID</c> resumes with no gap and no repeat; model token deltas arrive live in between, as
/// <c>delta</c> events without ids (they are not part of the log). The stream ends after the run's final event.
/// </summary>
public static class RunEventStream
{
    public static async Task<IResult> StreamAsync(Guid runId, HttpContext context, RunStore runs, RunFeed feed, long? after)
    {
        if (await runs.FindAsync(context.User.TenantId(), runId) is null)
        {
            return TypedResults.NotFound();
        }

        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        long cursor;
        if (lastEventId.Length > 0)
        {
            if (!long.TryParse(lastEventId, out cursor) || cursor < 0)
            {
                return ValidationProblems.For("Last-Event-ID", "The sequence number of the last event received.");
            }
        }
        else if (after is < 0)
        {
            return ValidationProblems.For("after", "A sequence number, 0 or more.");
        }
        else
        {
            cursor = after ?? 0;
        }

        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var token = context.RequestAborted;
        try
        {
            await foreach (var batch in feed.ReadAsync(runId, cursor, token))
            {
                foreach (var item in batch)
                {
                    await response.WriteAsync(item switch
                    {
                        RunLogEntry e => $"id: {e.Seq}\nevent: {e.Type}\ndata: {e.Json}\n\n",
                        RunDelta d => $"event: delta\ndata: {d.Json}\n\n",
                        _ => throw new InvalidOperationException($"Unknown feed item {item.GetType().Name}."),
                    }, token);
                }

                if (batch.Count == 0)
                {
                    await response.WriteAsync(": keep-alive\n\n", token);
                }

                await response.Body.FlushAsync(token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }

        return TypedResults.Empty;
    }

    /// <summary>The JSON of an event as streams send it, and as the signal of its commit carries it.</summary>
    public static string Data(RunEvent e) => JsonSerializer.Serialize(new { seq = e.Seq, type = e.Type, stepId = e.StepId, at = e.At, data = e.Data });
}
