using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Orchestrator.Runs.Steps;
using Platform.ServiceDefaults.Json;

namespace Platform.Orchestrator.Runs;

/// <summary>Ending a run: success, failure, re-planning around a failed step, compensation, parking, and the run's output.</summary>
public sealed partial class RunExecutor
{
    /// <summary>
    /// Ends the run when every step succeeded, one failed for good, or the budget is spent; a step that failed in a way
    /// the planner may work around is re-planned first, a bounded number of times. True when the run ended.
    /// </summary>
    private async Task<bool> EndIfDecidedAsync(RunExecution x, CancellationToken token)
    {
        if (OverBudget(x))
        {
            await FailAsync(x, BudgetSpent(x), token);
            return true;
        }

        if (x.Steps.Values.FirstOrDefault(s => s.State == StepStates.Failed) is { } failed)
        {
            if (!failed.Replannable || x.Run.Replans >= x.Agent.MaxReplans || x.Run.PlanId is null)
            {
                await FailAsync(x, $"Step '{failed.Id}' failed: {failed.Error}", token);
                return true;
            }

            if (await ReplanAsync(x, failed, token) is { } refusal)
            {
                await FailAsync(x, $"Step '{failed.Id}' failed: {failed.Error}; re-planning around it did not work: {refusal}", token);
                return true;
            }

            return false;
        }

        var live = Live(x).ToList();
        if (live.Count > 0 && live.All(s => s.State == StepStates.Succeeded))
        {
            var output = Output(x);
            if (x.Agent.OutputSchema is { } schema && await OutputProblemAsync(schema, output) is { } problem)
            {
                await FailAsync(x, $"The output does not match the agent's output schema: {problem}", token);
                return true;
            }

            await EndAsync(x, RunStates.Succeeded, null, output);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Asks the planning service for a revision around <paramref name="failed"/> and puts its steps in place of those
    /// that had not succeeded; null when it did, else why not.
    /// </summary>
    private async Task<string?> ReplanAsync(RunExecution x, StepRow failed, CancellationToken token)
    {
        var succeeded = Live(x).Where(s => s.State == StepStates.Succeeded).ToList();
        while (true)
        {
            switch (await plans.ReviseAsync(x.RunKey, x.Run, x.Agent, succeeded, failed, token))
            {
                case PlanCalls.Outcome.Made made:
                    var kept = succeeded.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
                    var planned = made.Plan.Steps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
                    var change = new RunChange
                    {
                        PlanId = made.Plan.Id,
                        PlanRevision = made.Plan.Revision,
                        Replans = 1,
                        Events =
                        {
                            new("run.replanned", failed.Id, new JsonObject
                            {
                                ["revision"] = made.Plan.Revision,
                                ["reason"] = failed.Error,
                                ["steps"] = new JsonArray([.. made.Plan.Steps.Select(s => JsonValue.Create(s.Id))]),
                            }),
                        },
                    };
                    change.NewSteps.AddRange(made.Plan.Steps.Where(s => !kept.Contains(s.Id)));
                    change.Steps.AddRange(Live(x).Where(s => s.State != StepStates.Succeeded && !planned.Contains(s.Id))
                        .Select(s => new StepChange { Id = s.Id, State = StepStates.Superseded, Finished = true }));
                    await CommitAsync(x, change);
                    return null;
                case PlanCalls.Outcome.Refused refused:
                    return refused.Reason;
                case PlanCalls.Outcome.Transient { ModelUnavailable: true } unavailable:
                    return unavailable.Reason;
                case PlanCalls.Outcome.Transient transient:
                    LogTransient(x.Run.Id, "re-plan", transient.Reason);
                    await Task.Delay(transient.RetryAfter, time, token);
                    break;
            }
        }
    }

    /// <summary>
    /// Ends the run as failed after undoing what its steps did: each succeeded step with a compensation gets its
    /// compensating call, newest first, each recorded as it ends so a replica taking over asks only the rest.
    /// </summary>
    private async Task FailAsync(RunExecution x, string reason, CancellationToken token)
    {
        var toUndo = Live(x).Where(s => s.State == StepStates.Succeeded && s.Compensation is not null && s.CompensationState is null)
            .OrderByDescending(s => s.FinishedAt).ThenByDescending(s => s.Position).ToList();
        foreach (var step in toUndo)
        {
            await CompensateAsync(x, step, token);
        }

        var undone = Live(x).Where(s => s.CompensationState is not null).ToList();
        var failures = undone.Where(s => s.CompensationState == StepStates.Failed).Select(s => s.Id).ToList();
        var summary = undone.Count == 0 ? ""
            : failures.Count == 0 ? $" Compensated: {string.Join(", ", undone.Select(s => s.Id))}."
            : $" Compensation failed for: {string.Join(", ", failures)}.";
        await EndAsync(x, RunStates.Failed, reason + summary);
    }

    private async Task CompensateAsync(RunExecution x, StepRow step, CancellationToken token)
    {
        var (tool, arguments) = StepInputs.Compensation(step, x.Steps);
        var key = $"run:{x.Run.Id}:step:{step.Id}:attempt:{step.Attempts}:compensate";
        StepOutcome outcome;
        while ((outcome = await tools.InvokeAsync(x.RunKey, tool, arguments, key, x.Run.Id, step.Id, token)) is StepOutcome.Transient transient)
        {
            LogTransient(x.Run.Id, $"{step.Id} compensation", transient.Reason);
            await Task.Delay(transient.RetryAfter, time, token);
        }

        var error = outcome switch
        {
            StepOutcome.Succeeded => null,
            StepOutcome.Failed failed => failed.Reason,
            StepOutcome.Parked parked => $"The call {parked.InvocationId} waits for an approval; it runs if it is approved, after the run ended.",
            _ => $"The call ended as {outcome.GetType().Name}.",
        };
        await CommitAsync(x, new RunChange
        {
            Steps = { new StepChange { Id = step.Id, CompensationState = error is null ? StepStates.Succeeded : StepStates.Failed, CompensationError = error } },
            Events =
            {
                new(error is null ? "step.compensated" : "step.compensation_failed", step.Id, new JsonObject
                {
                    ["tool"] = tool,
                    ["arguments"] = arguments.DeepClone(),
                    ["output"] = outcome is StepOutcome.Succeeded { Output: { } output } ? Preview(output) : null,
                    ["error"] = error,
                }),
            },
        });
    }

    /// <summary>The steps of the plan's current revision: those a re-plan replaced are history.</summary>
    private static IEnumerable<StepRow> Live(RunExecution x) => x.Steps.Values.Where(s => s.State != StepStates.Superseded);

    private async Task ParkAsync(RunExecution x, DateTimeOffset recheckAt)
    {
        // A run asking again whether its decision came stays parked quietly: the event and webhook were sent once.
        var alreadyWaiting = x.Run.State == RunStates.WaitingApproval;
        var change = new RunChange
        {
            State = RunStates.WaitingApproval,
            Release = true,
            WakeAt = recheckAt.UtcDateTime,
            Webhook = alreadyWaiting ? null : Announcement(x, RunStates.WaitingApproval, null, null),
        };
        if (!alreadyWaiting)
        {
            var waiting = x.Steps.Values.Where(s => s.State == StepStates.WaitingApproval).Select(s => JsonValue.Create(s.Id));
            change.Events.Add(new("run.waiting_approval", null, new JsonObject { ["steps"] = new JsonArray([.. waiting]) }));
        }

        await CommitAsync(x, change);
    }

    private async Task EndAsync(RunExecution x, string state, string? reason, JsonNode? output = null)
    {
        var ended = await TryCommitAsync(x, new RunChange
        {
            State = state,
            Reason = reason,
            Output = output,
            Finished = true,
            Release = true,
            RevokeKey = true,
            ClearCancel = true,
            Webhook = Announcement(x, state, reason, output),
            Events = { new($"run.{state}", null, new JsonObject { ["reason"] = reason, ["output"] = output?.DeepClone(), ["costUsd"] = x.Run.CostUsd }) },
        });
        if (ended)
        {
            RunMetrics.RunEnded(state);
        }
    }

    private static JsonObject Announcement(RunExecution x, string state, string? reason, JsonNode? output) => new()
    {
        ["type"] = $"run.{state}",
        ["runId"] = x.Run.Id,
        ["agent"] = x.Run.Agent,
        ["agentVersion"] = x.Run.AgentVersion,
        ["state"] = state,
        ["reason"] = reason,
        ["output"] = output?.DeepClone(),
        ["costUsd"] = x.Run.CostUsd,
    };

    /// <summary>The last step's answer; when the plan ends in several steps, their answers by step id.</summary>
    private static JsonNode? Output(RunExecution x)
    {
        var last = Live(x).Where(s => IsLast(x, s)).OrderBy(s => s.Position).ToList();
        if (last.Count == 1)
        {
            return StructuredOrText(last[0].Output);
        }

        var outputs = new JsonObject();
        foreach (var step in last)
        {
            outputs[step.Id] = StructuredOrText(step.Output);
        }

        return outputs;
    }

    private static bool IsLast(RunExecution x, StepRow step) => !Live(x).Any(s => s.DependsOn.Contains(step.Id));

    /// <summary>A model's answer that is JSON (asked for with the output schema) is the output itself, not a string of it.</summary>
    private static JsonNode? StructuredOrText(string? stored)
    {
        var node = JsonNode.Parse(stored ?? "null");
        if (node is JsonValue value && value.TryGetValue<string>(out var text) && text.TrimStart() is ['{' or '[', ..])
        {
            try
            {
                return JsonNode.Parse(text);
            }
            catch (JsonException)
            {
                return node;
            }
        }

        return node;
    }

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

    private static bool OverBudget(RunExecution x) => x.Agent.BudgetUsd is { } budget && x.Run.CostUsd >= budget;

    private static string BudgetSpent(RunExecution x) => $"The run's budget of {x.Agent.BudgetUsd} USD is spent ({x.Run.CostUsd} USD).";

    private static JsonNode? Preview(JsonNode? output)
    {
        var json = output?.ToJsonString() ?? "null";
        return json.Length <= 2048 ? output?.DeepClone() : JsonValue.Create(json[..2048] + "…");
    }
}
