using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>
/// Writes a run's decisions while this replica holds it (ADR 0005): each change is committed in one statement before
/// anything acts on it, so whichever replica holds the run next carries on from the last commit. Only then is the
/// change applied to this replica's copy and announced to the run's streams.
/// </summary>
public sealed partial class RunCommitter(
    RunStore store, RunSignals signals, RunKeys keys, IOptions<RunOptions> options, TimeProvider time, ILogger<RunCommitter> logger)
{
    /// <summary>Commits <paramref name="change"/>; a replica that no longer holds the run stops driving it (<see cref="LeaseLostException"/>).</summary>
    public async Task CommitAsync(RunExecution x, RunChange change)
    {
        if (!await TryCommitAsync(x, change))
        {
            throw new LeaseLostException();
        }
    }

    /// <summary>False when another replica holds the run now, and nothing was written.</summary>
    public async Task<bool> TryCommitAsync(RunExecution x, RunChange change)
    {
        var result = await store.CommitAsync(x.Run.Id, RunWriter.Leaseholder(x.Owner), change, options.Value.Lease);
        if (result is null)
        {
            return false;
        }

        x.Apply(change, time.GetUtcNow().UtcDateTime);
        x.Run.EventSeq = result.LastSeq;
        if (change.Events.Count > 0)
        {
            var first = result.LastSeq - change.Events.Count + 1;
            await signals.EventsCommittedAsync(x.Run.Id, [.. change.Events.Select((e, i) =>
                new RunEvent(first + i, e.Type, e.StepId, JsonSerializer.SerializeToElement(e.Data, RunJson.Options), result.At))]);
        }

        if (result.RevokedKeyHash is { } revoked)
        {
            await WithdrawKeyAsync(revoked);
        }

        return true;
    }

    private async Task WithdrawKeyAsync(string keyHash)
    {
        try
        {
            await keys.WithdrawAsync(keyHash);
        }
        catch (StackExchange.Redis.RedisException e)
        {
            // The key is revoked in PostgreSQL; the orchestrator's index sync removes it from Redis within a minute.
            LogKeyNotWithdrawn(e);
        }
    }

    [LoggerMessage(LogLevel.Warning, "A revoked run key is still in the Redis index until the next sync")]
    private partial void LogKeyNotWithdrawn(Exception exception);
}

/// <summary>A commit found the run held by another replica: this one stops driving it, and writes nothing more.</summary>
internal sealed class LeaseLostException : Exception;
