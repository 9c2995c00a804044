using System.Text.Json;
using Platform.ServiceDefaults.Data;
using StackExchange.Redis;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// Redis pub/sub that shortens waits; nothing depends on it arriving. A run's channel says "new events" (streams
/// then read them from PostgreSQL) and carries model token deltas, which are never stored; the wake channel makes
/// workers claim at once instead of at their next poll; the cancel channel reaches the replica running a run.
/// </summary>
public sealed class RunSignals(IConnectionMultiplexer redis, ILogger<RunSignals> logger)
{
    private static readonly RedisChannel Wake = RedisChannel.Literal("platform:runs:wake");
    private static readonly RedisChannel Cancel = RedisChannel.Literal("platform:runs:cancel");

    public static RedisChannel RunChannel(Guid runId) => RedisChannel.Literal($"platform:runs:{runId}");

    public Task EventsCommittedAsync(Guid runId, int lastSeq) => PublishAsync(RunChannel(runId), JsonSerializer.Serialize(new { seq = lastSeq }));

    /// <summary>
    /// The events themselves, as streams write them: a stream that has sent every earlier one writes these without
    /// reading the log.
    /// </summary>
    public Task EventsCommittedAsync(Guid runId, IReadOnlyList<RunEvent> events) =>
        PublishAsync(RunChannel(runId), $"{{\"seq\":{events[^1].Seq},\"events\":[{string.Join(',', events.Select(RunEventStream.Data))}]}}");

    public Task DeltaAsync(Guid runId, string stepId, string text) =>
        PublishAsync(RunChannel(runId), JsonSerializer.Serialize(new { step = stepId, delta = text }));

    public Task WakeWorkersAsync() => PublishAsync(Wake, "");

    public Task CancelAsync(Guid runId) => PublishAsync(Cancel, runId.ToString());

    public void OnWake(Action handler) => Subscribe(Wake, _ => handler());

    /// <summary>The tool service decided a run's parked call.</summary>
    public void OnApprovalDecided(Action<Guid> handler) => Subscribe(PlatformChannels.RunApprovalDecided, message =>
    {
        if (Guid.TryParse(message, out var runId))
        {
            handler(runId);
        }
    });

    public void OnCancel(Action<Guid> handler) => Subscribe(Cancel, message =>
    {
        if (Guid.TryParse(message, out var runId))
        {
            handler(runId);
        }
    });

    /// <summary>Messages on a run's channel, until the subscription is disposed.</summary>
    public async Task<IAsyncDisposable?> SubscribeRunAsync(Guid runId, Action<string> handler)
    {
        try
        {
            var queue = await redis.GetSubscriber().SubscribeAsync(RunChannel(runId));
            queue.OnMessage(message => handler(message.Message.ToString()));
            return new Subscription(queue);
        }
        catch (RedisException e)
        {
            logger.LogDebug(e, "No live signals for run {RunId}; the stream polls", runId);
            return null;
        }
    }

    private void Subscribe(RedisChannel channel, Action<string> handler)
    {
        try
        {
            redis.GetSubscriber().Subscribe(channel, (_, message) => handler(message.ToString()));
        }
        catch (RedisException e)
        {
            logger.LogWarning(e, "Not subscribed to {Channel}; polling alone finds the work", channel);
        }
    }

    private async Task PublishAsync(RedisChannel channel, string message)
    {
        try
        {
            await redis.GetSubscriber().PublishAsync(channel, message, CommandFlags.FireAndForget);
        }
        catch (RedisException e)
        {
            logger.LogDebug(e, "A signal on {Channel} was not sent; listeners fall back to polling", channel);
        }
    }

    private sealed class Subscription(ChannelMessageQueue queue) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await queue.UnsubscribeAsync();
            }
            catch (RedisException)
            {
                // The connection is gone, and the subscription with it.
            }
        }
    }
}
