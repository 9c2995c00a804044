using System.Text.Json;
using System.Threading.Channels;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// <c>GET /v1/runs/{id}/events</c>: the run's event log as server-sent events whose ids are the log's sequence
/// numbers, so <c>Last-Event-ID</c> resumes with no gap and no repeat; model token deltas arrive live in between, as
/// <c>delta</c> events without ids (they are not part of the log). The stream ends after the run's final event.
/// </summary>
public static class RunEventStream
{
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>Without a live signal (Redis away), the log is read this often.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    public static async Task<IResult> StreamAsync(Guid runId, HttpContext context, RunStore runs, RunSignals signals, long? after)
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
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["Last-Event-ID"] = ["The sequence number of the last event received."] });
            }
        }
        else if (after is < 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["after"] = ["A sequence number, 0 or more."] });
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

        var live = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        await using var subscription = await signals.SubscribeRunAsync(runId, message => live.Writer.TryWrite(message));
        try
        {
            while (!token.IsCancellationRequested)
            {
                var ended = false;
                foreach (var e in await runs.EventsAsync(runId, cursor))
                {
                    await response.WriteAsync($"id: {e.Seq}\nevent: {e.Type}\ndata: {JsonSerializer.Serialize(new { seq = e.Seq, type = e.Type, stepId = e.StepId, at = e.At, data = e.Data })}\n\n", token);
                    cursor = e.Seq;
                    ended = e.Type is "run.succeeded" or "run.failed" or "run.cancelled" or "run.timed_out";
                }

                if (ended)
                {
                    break;
                }

                await response.Body.FlushAsync(token);
                await WaitAsync(live.Reader, response, subscription is null ? Poll : KeepAlive, token);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }

        return TypedResults.Empty;
    }

    /// <summary>Writes deltas as they come until a "new events" signal, the wait's end (a keep-alive comment) or the client leaves.</summary>
    private static async Task WaitAsync(ChannelReader<string> live, HttpResponse response, TimeSpan wait, CancellationToken token)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
        timeout.CancelAfter(wait);
        try
        {
            while (await live.WaitToReadAsync(timeout.Token))
            {
                while (live.TryRead(out var message))
                {
                    using var document = JsonDocument.Parse(message);
                    if (!document.RootElement.TryGetProperty("delta", out _))
                    {
                        return;
                    }

                    await response.WriteAsync($"event: delta\ndata: {message}\n\n", token);
                }

                await response.Body.FlushAsync(token);
            }
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            await response.WriteAsync(": keep-alive\n\n", token);
            await response.Body.FlushAsync(token);
        }
    }
}
