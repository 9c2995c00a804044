using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Json;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>Ending a run, or this replica's hold on it: success, failure after compensation, re-planning, parking.</summary>
public sealed class RunEnding(RunCommitter committer, RunReplanner replanner, RunCompensator compensator)
{
    /// <summary>Acts on what <see cref="RunProgress.Decide"/> says once no attempt is in flight; true when the run ended.</summary>
    public async Task<bool> EndIfDecidedAsync(RunExecution x, CancellationToken token)
    {
        switch (RunProgress.Decide(x))
        {
            case RunDecision.Fail fail:
                await FailAsync(x, fail.Reason, token);
                return true;
            case RunDecision.Replan { Failed: var failed }:
                if (await replanner.ReplanAsync(x, failed, token) is not { } refusal)
                {
                    return false;
                }

                await FailAsync(x, $"{RunProgress.StepFailed(failed)}; re-planning around it did not work: {refusal}", token);
                return true;
            case RunDecision.Succeed { Output: var output }:
                if (x.Agent.OutputSchema is { } schema && await OutputProblemAsync(schema, output) is { } problem)
                {
                    await FailAsync(x, $"The output does not match the agent's output schema: {problem}", token);
                    return true;
                }

                await EndAsync(x, RunStates.Succeeded, null, output);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Ends the run as failed after undoing what its steps did (<see cref="RunCompensator.UndoAsync"/>).</summary>
    public async Task FailAsync(RunExecution x, string reason, CancellationToken token)
    {
        var compensations = await compensator.UndoAsync(x, token);
        await EndAsync(x, RunStates.Failed, reason + compensations);
    }

    /// <summary>
    /// Ends the run in <paramref name="state"/> and revokes its key. A replica that lost the run writes nothing, and the
    /// replica holding it ends it.
    /// </summary>
    public async Task EndAsync(RunExecution x, string state, string? reason, JsonNode? output = null)
    {
        var type = RunEventTypes.RunEnded(state);
        var ended = await committer.TryCommitAsync(x, new RunChange
        {
            State = state,
            Reason = reason,
            Output = output,
            Finished = true,
            Release = true,
            RevokeKey = true,
            ClearCancel = true,
            Webhook = Announcement(x, type, state, reason, output),
            Events =
            {
                new(type, null, new JsonObject { ["reason"] = reason, ["output"] = output?.DeepClone(), ["costUsd"] = x.Run.CostUsd }),
            },
        });
        if (ended)
        {
            RunMetrics.RunEnded(state);
        }
    }

    /// <summary>Gives the run up until a person decides what it waits for, or <paramref name="recheckAt"/> in case that news is lost.</summary>
    public async Task ParkAsync(RunExecution x, DateTimeOffset recheckAt)
    {
        // A run asking again whether its decision came stays parked quietly: the event and webhook were sent once.
        var alreadyWaiting = x.Run.State == RunStates.WaitingApproval;
        var change = new RunChange
        {
            State = RunStates.WaitingApproval,
            Release = true,
            WakeAt = recheckAt.UtcDateTime,
            Webhook = alreadyWaiting ? null : Announcement(x, RunEventTypes.RunWaitingApproval, RunStates.WaitingApproval, null, null),
        };
        if (!alreadyWaiting)
        {
            var waiting = x.Steps.Values.Where(s => s.State == StepStates.WaitingApproval).Select(s => JsonValue.Create(s.Id));
            change.Events.Add(new(RunEventTypes.RunWaitingApproval, null, new JsonObject { ["steps"] = new JsonArray([.. waiting]) }));
        }

        await committer.CommitAsync(x, change);
    }

    private static JsonObject Announcement(RunExecution x, string type, string state, string? reason, JsonNode? output) => new()
    {
        ["type"] = type,
        ["runId"] = x.Run.Id,
        ["agent"] = x.Run.Agent,
        ["agentVersion"] = x.Run.AgentVersion,
        ["state"] = state,
        ["reason"] = reason,
        ["output"] = output?.DeepClone(),
        ["costUsd"] = x.Run.CostUsd,
    };

    /// <summary>The schema is compiled with the same guards it passed when the agent was written; a pattern's match is bounded in time.</summary>
    private static async Task<string?> OutputProblemAsync(JsonElement schema, JsonNode? output)
    {
        var compiled = await SchemaCheck.CompileAsync(schema);
        if (compiled.Schema is null)
        {
            return $"the schema cannot be used: {compiled.Problem}";
        }

        try
        {
            var errors = compiled.Schema.Validate(output?.ToJsonString() ?? "null");
            return errors.Count == 0 ? null : string.Join("; ", errors.Take(5).Select(e => $"{(e.Path is { Length: > 0 } path ? path : "#")}: {e.Kind}"));
        }
        catch (RegexMatchTimeoutException)
        {
            return "a pattern of the schema took too long to match the output";
        }
    }
}
