using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs.Execution;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// Starting and cancelling a run, the one way every entry point does it (the REST API, the MCP server), so a run
/// started from any of them is the same durable, billed, cancellable run.
/// </summary>
public sealed class RunOperations(RunStore runs, RunKeys runKeys, RunWorker worker, RunSignals signals, IOptions<RunOptions> options)
{
    /// <summary>
    /// Accepts a run of <paramref name="agent"/>; a repeated idempotency key answers the run it first made
    /// (<c>Created</c> false), which the caller compares with what it asked for.
    /// </summary>
    public async Task<(RunRow Run, bool Created)> StartAsync(AgentVersion agent, RunRequest request)
    {
        var definition = JsonSerializer.Serialize(agent.Definition, RunJson.Options);
        var runAgent = RunAgent.Read(definition);
        var key = runKeys.Mint();
        var run = new NewRun(
            Guid.CreateVersion7(), request.TenantId, agent.Name, agent.Version, definition, request.Goal, request.Input?.ToJsonString(),
            request.Metadata?.ToJsonString(), request.WebhookUrl ?? agent.Definition.WebhookUrl, request.IdempotencyKey, request.KeyId, key.Id, key.Protected,
            key.Hash, key.Prefix, key.Scopes, runAgent.Timeouts.RunSeconds,
            new JsonObject { ["agent"] = agent.Name, ["agentVersion"] = agent.Version, ["goal"] = request.Goal }.ToJsonString());

        var reserved = worker.TryReserve();
        var (row, created) = await runs.CreateAsync(run, reserved ? worker.Owner : null, planning: reserved && runAgent.Mode == AgentMode.Plan, options.Value.Lease);
        if (!created)
        {
            if (reserved)
            {
                worker.Unreserve();
            }

            return (row, false);
        }

        RunMetrics.RunAccepted();
        await PublishKeyAsync(key, row);
        if (reserved)
        {
            worker.StartAccepted(row);
        }
        else
        {
            await signals.WakeWorkersAsync();
        }

        return (row, true);
    }

    /// <summary>
    /// Cancels a run: at once when no replica holds it (queued, parked), else the holder stops it within moments.
    /// Null when the tenant has no such run; a run that has already ended is answered as it is.
    /// </summary>
    public async Task<RunRow?> CancelAsync(string tenantId, Guid runId)
    {
        var run = await runs.FindAsync(tenantId, runId);
        if (run is null || RunStates.IsTerminal(run.State))
        {
            return run;
        }

        var change = new RunChange
        {
            State = RunStates.Cancelled,
            Reason = "Cancelled on request.",
            Finished = true,
            RevokeKey = true,
            Webhook = new JsonObject { ["type"] = RunEventTypes.RunCancelled, ["runId"] = runId, ["agent"] = run.Agent, ["state"] = RunStates.Cancelled, ["reason"] = "Cancelled on request." },
            Events = { new(RunEventTypes.RunCancelled, null, new JsonObject { ["reason"] = "Cancelled on request." }) },
        };
        var result = await runs.CommitAsync(runId, RunWriter.Unleased(RunStates.Queued, RunStates.Planning, RunStates.Running, RunStates.WaitingApproval), change, options.Value.Lease);
        if (result is not null)
        {
            await signals.EventsCommittedAsync(runId, result.LastSeq);
            if (result.RevokedKeyHash is { } revoked)
            {
                await runKeys.WithdrawAsync(revoked);
            }
        }
        else
        {
            await runs.RequestCancelAsync(tenantId, runId);
            await signals.CancelAsync(runId);
        }

        return await runs.FindAsync(tenantId, runId);
    }

    /// <summary>Makes a run's own key usable at once (Redis); without Redis the index sync adds it soon after.</summary>
    public async Task PublishKeyAsync(RunKey key, RunRow run)
    {
        try
        {
            await runKeys.PublishAsync(key, run.TenantId, run.Deadline);
        }
        catch (StackExchange.Redis.RedisException)
        {
            // The key is in PostgreSQL; the index sync adds it, and the run's calls wait for it meanwhile (a 401 is retried).
        }
    }
}

/// <summary>What a caller asks of a run, checked by the entry point it came through.</summary>
public sealed record RunRequest(
    string TenantId, string KeyId, string Goal, JsonNode? Input, JsonNode? Metadata, string? WebhookUrl, string IdempotencyKey);
