using System.Text.Json;
using System.Threading.Channels;
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

        var live = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        await using var subscription = await signals.SubscribeRunAsync(runId, message => live.Writer.TryWrite(message));
        try
        {
            var arrived = (IReadOnlyList<JsonElement>?)null;
            while (!token.IsCancellationRequested)
            {
                var ended = false;
                var next = arrived?.Where(e => e.GetProperty("seq").GetInt64() > cursor).ToList();
                if (next is { Count: > 0 } && next[0].GetProperty("seq").GetInt64() == cursor + 1)
                {
                    // The signal carried the events that follow the last one sent: no need to read the log.
                    foreach (var e in next)
                    {
                        cursor = e.GetProperty("seq").GetInt64();
                        ended = await WriteAsync(response, cursor, e.GetProperty("type").GetString()!, e.GetRawText(), token);
                    }
                }
                else
                {
                    foreach (var e in await runs.EventsAsync(runId, cursor))
                    {
                        cursor = e.Seq;
                        ended = await WriteAsync(response, e.Seq, e.Type, Data(e), token);
                    }
                }

                if (ended)
                {
                    break;
                }

                await response.Body.FlushAsync(token);
                arrived = await WaitAsync(live.Reader, response, subscription is null ? Poll : KeepAlive, token);
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

    /// <summary>Writes one event of the log; true when it is the run's last.</summary>
    private static async Task<bool> WriteAsync(HttpResponse response, long seq, string type, string data, CancellationToken token)
    {
        await response.WriteAsync($"id: {seq}\nevent: {type}\ndata: {data}\n\n", token);
        return RunEventTypes.EndsRun(type);
    }

    /// <summary>
    /// Writes deltas as they come until a "new events" signal (answering the events it carried, if any), the wait's
    /// end (a keep-alive comment) or the client leaves; null means the log is to be read.
    /// </summary>
    private static async Task<IReadOnlyList<JsonElement>?> WaitAsync(ChannelReader<string> live, HttpResponse response, TimeSpan wait, CancellationToken token)
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
                        return document.RootElement.TryGetProperty("events", out var events) ? [.. events.EnumerateArray().Select(e => e.Clone())] : null;
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

        return null;
    }
}
