using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;

namespace Platform.Orchestrator.Runs;

/// <summary>One entry of a run's feed: an event of its log, or a live token delta between them.</summary>
public abstract record RunFeedItem;

/// <summary>An event of the run's log, with its sequence number and its JSON as streams send it.</summary>
public sealed record RunLogEntry(long Seq, string Type, string Json) : RunFeedItem;

/// <summary>A model step's token delta, live only: not part of the log, so never replayed.</summary>
public sealed record RunDelta(string Json) : RunFeedItem;

/// <summary>
/// A run's event log from a sequence number on, then live until its final event, for every watcher (the SSE stream,
/// the MCP server): each batch is what arrived together, and an empty batch says nothing arrived for a while. Events
/// come from the signal of their commit when it carries them in order, else from the log, so none is missed or repeated.
/// </summary>
public sealed class RunFeed(RunStore runs, RunSignals signals)
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(15);

    /// <summary>Without a live signal (Redis away), the log is read this often.</summary>
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(2);

    public async IAsyncEnumerable<IReadOnlyList<RunFeedItem>> ReadAsync(Guid runId, long after, [EnumeratorCancellation] CancellationToken token)
    {
        var live = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        await using var subscription = await signals.SubscribeRunAsync(runId, message => live.Writer.TryWrite(message));
        var cursor = after;
        var arrived = (IReadOnlyList<JsonElement>?)null;
        while (true)
        {
            var next = arrived?.Where(e => e.GetProperty("seq").GetInt64() > cursor).ToList();
            var entries = next is { Count: > 0 } && next[0].GetProperty("seq").GetInt64() == cursor + 1
                ? next.Select(e => new RunLogEntry(e.GetProperty("seq").GetInt64(), e.GetProperty("type").GetString()!, e.GetRawText())).ToList()
                : (await runs.EventsAsync(runId, cursor)).Select(e => new RunLogEntry(e.Seq, e.Type, RunEventStream.Data(e))).ToList();
            if (entries.Count > 0)
            {
                cursor = entries[^1].Seq;
                yield return entries;
                if (entries.Any(e => RunEventTypes.EndsRun(e.Type)))
                {
                    yield break;
                }
            }

            // Deltas as they come, until a "new events" signal (with the events it carried, if any) or a quiet spell.
            arrived = null;
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(token);
            wait.CancelAfter(subscription is null ? Poll : Quiet);
            while (await WaitToReadAsync(live.Reader, wait.Token, token))
            {
                var deltas = new List<RunFeedItem>();
                var committed = false;
                while (!committed && live.Reader.TryRead(out var message))
                {
                    using var document = JsonDocument.Parse(message);
                    if (document.RootElement.TryGetProperty("delta", out _))
                    {
                        deltas.Add(new RunDelta(message));
                    }
                    else
                    {
                        committed = true;
                        arrived = document.RootElement.TryGetProperty("events", out var events) ? [.. events.EnumerateArray().Select(e => e.Clone())] : null;
                    }
                }

                if (deltas.Count > 0)
                {
                    yield return deltas;
                }

                if (committed)
                {
                    break;
                }
            }

            if (wait.IsCancellationRequested && !token.IsCancellationRequested)
            {
                yield return [];
            }
        }
    }

    /// <summary>Whether a message is waiting; false when the wait ran out (a caller's cancellation still throws).</summary>
    private static async Task<bool> WaitToReadAsync(ChannelReader<string> reader, CancellationToken wait, CancellationToken token)
    {
        try
        {
            return await reader.WaitToReadAsync(wait);
        }
        catch (OperationCanceledException) when (!token.IsCancellationRequested)
        {
            return false;
        }
    }
}
