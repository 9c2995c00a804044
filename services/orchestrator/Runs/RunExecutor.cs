using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// Drives one run while this replica holds its lease: plans it, runs ready steps in parallel, records each outcome
/// as it happens and ends the run. Everything it decides is written through <see cref="RunStore.CommitAsync"/> before
/// it acts on it, so whichever replica holds the run next carries on from the last commit: a step that was running is
/// asked again with the same idempotency key, and the model gateway and tool service answer with what they recorded.
/// </summary>
public sealed partial class RunExecutor(
    RunStore store, RunSignals signals, RunKeys keys, PlanCalls plans, ModelCalls models, ToolCalls tools, IOptions<RunOptions> options,
    TimeProvider time, ILogger<RunExecutor> logger)
{
    private readonly RunOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _tenantSlots = new(StringComparer.Ordinal);

    public async Task ExecuteAsync(RunRow run, IReadOnlyList<StepRow> steps, string owner, RunControl control)
    {
        var execution = new RunExecution(run, steps, RunAgent.Read(run.AgentDefinition), keys.Reveal(run), owner);
        var token = control.Token;
        try
        {
            if (run.CancelRequested)
            {
                await EndAsync(execution, RunStates.Cancelled, "Cancelled on request.");
                return;
            }

            if (time.GetUtcNow().UtcDateTime >= run.Deadline)
            {
                await EndAsync(execution, RunStates.TimedOut, $"The run passed its deadline ({run.Deadline:O}).");
                return;
            }

            if (run.State is RunStates.Queued or RunStates.Planning && !await PlanAsync(execution, token))
            {
                return;
            }

            await RunStepsAsync(execution, token);
        }
        catch (LeaseLostException)
        {
            LogLeaseLost(run.Id);
        }
        catch (OperationCanceledException) when (control.CancelRequested)
        {
            await EndAsync(execution, RunStates.Cancelled, "Cancelled on request.");
        }
        catch (OperationCanceledException) when (control.DeadlinePassed)
        {
            await EndAsync(execution, RunStates.TimedOut, $"The run passed its deadline ({run.Deadline:O}).");
        }
        catch (OperationCanceledException) when (control.Stopping)
        {
            // The replica is stopping: give the run up at once so another replica resumes it without waiting for the lease.
            await TryCommitAsync(execution, new RunChange { Release = true });
        }
        catch (OperationCanceledException)
        {
            // The lease renewal found the run held by another replica.
            LogLeaseLost(run.Id);
        }
    }

    private async Task<bool> PlanAsync(RunExecution x, CancellationToken token)
    {
        if (x.Agent.Mode == "react")
        {
            var start = new RunChange { State = RunStates.Running, Events = { new("run.started", null, new JsonObject { ["mode"] = "react" }) } };
            start.NewSteps.Add(ReactTurns.First());
            StartReadyWith(x, start, [], new Dictionary<string, DateTimeOffset>());
            await CommitAsync(x, start);
            return true;
        }

        if (x.Run.State == RunStates.Queued)
        {
            await CommitAsync(x, new RunChange { State = RunStates.Planning, Events = { new("run.planning", null, []) } });
        }

        // The planner's model failing is counted like a step's attempts, and moves planning to the fallback model.
        var model = x.Agent.Model;
        var modelFailures = 0;
        while (true)
        {
            switch (await plans.PlanAsync(x.RunKey, x.Run, x.Agent, model, token))
            {
                case PlanCalls.Outcome.Made made:
                    var change = new RunChange
                    {
                        State = RunStates.Running,
                        PlanId = made.Plan.Id,
                        PlanRevision = made.Plan.Revision,
                        Events =
                        {
                            new("run.planned", null, new JsonObject
                            {
                                ["planId"] = made.Plan.Id,
                                ["revision"] = made.Plan.Revision,
                                ["steps"] = new JsonArray([.. made.Plan.Steps.Select(s => JsonValue.Create(s.Id))]),
                            }),
                        },
                    };
                    change.NewSteps.AddRange(made.Plan.Steps);
                    StartReadyWith(x, change, [], new Dictionary<string, DateTimeOffset>());
                    await CommitAsync(x, change);
                    return true;
                case PlanCalls.Outcome.Refused refused:
                    await EndAsync(x, RunStates.Failed, refused.Reason);
                    return false;
                case PlanCalls.Outcome.Transient { ModelUnavailable: false } transient:
                    LogTransient(x.Run.Id, "plan", transient.Reason);
                    await Task.Delay(transient.RetryAfter, time, token);
                    break;
                case PlanCalls.Outcome.Transient unavailable:
                    modelFailures++;
                    if (modelFailures < x.Agent.Retries.MaxAttempts)
                    {
                        LogTransient(x.Run.Id, "plan", unavailable.Reason);
                        await Task.Delay(StepRetries.Backoff(x.Agent.Retries, modelFailures), time, token);
                    }
                    else if (x.Agent.FallbackModel is { } fallback && model != fallback)
                    {
                        LogFallback(x.Run.Id, "plan", fallback, unavailable.Reason);
                        (model, modelFailures) = (fallback, 0);
                    }
                    else
                    {
                        await FailAsync(x, $"No plan could be made: {unavailable.Reason}", token);
                        return false;
                    }

                    break;
            }
        }
    }

    private async Task RunStepsAsync(RunExecution x, CancellationToken token)
    {
        var running = new Dictionary<string, Task<Attempt>>(StringComparer.Ordinal);
        var notBefore = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);

        // A tool call waiting for the tool service's approval is asked once per hold of the run; then the run parks.
        var parked = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            if (running.Count == 0 && await EndIfDecidedAsync(x, token))
            {
                return;
            }

            var now = time.GetUtcNow();
            var failed = x.Steps.Values.Any(s => s.State == StepStates.Failed) || OverBudget(x);
            if (!failed)
            {
                foreach (var step in Ready(x).Where(s => !running.ContainsKey(s.Id) && !parked.Contains(s.Id) && (!notBefore.TryGetValue(s.Id, out var at) || at <= now))
                    .Take(_options.MaxParallelStepsPerRun - running.Count).ToList())
                {
                    if (await GateAsync(x, step))
                    {
                        running[step.Id] = AttemptAsync(x, step, token);
                    }
                }
            }

            if (running.Count == 0)
            {
                if (failed)
                {
                    continue;
                }

                if (x.Steps.Values.Any(s => s.State == StepStates.WaitingApproval))
                {
                    await ParkAsync(x, time.GetUtcNow() + _options.ApprovalRecheck);
                    return;
                }

                var next = notBefore.Values.Where(at => at > now).DefaultIfEmpty().Min();
                if (next == default)
                {
                    await FailAsync(x, "No step can run: every remaining step depends on one that did not succeed.", token);
                    return;
                }

                if (next - now > _options.LongestInMemoryWait)
                {
                    await CommitAsync(x, new RunChange { Release = true, WakeAt = next.UtcDateTime });
                    return;
                }

                await Task.Delay(next - now, time, token);
                continue;
            }

            var done = await Task.WhenAny(running.Values);
            var attempt = await done;
            running.Remove(attempt.Step.Id);
            if (attempt.Outcome is StepOutcome.Parked)
            {
                parked.Add(attempt.Step.Id);
            }

            var (change, retryAt) = Record(x, attempt);
            if (retryAt is { } at)
            {
                notBefore[attempt.Step.Id] = at;
            }

            StartReadyWith(x, change, running.Keys, notBefore);
            await CommitAsync(x, change);
        }
    }

    /// <summary>
    /// Adds to <paramref name="change"/> the start of each step it makes ready, so that a step's start is written in
    /// the statement that ends its dependency (or plans it) rather than in one of its own. Steps needing a person's
    /// decision first, and any start after a failure or with the budget spent, are left to the loop.
    /// </summary>
    private void StartReadyWith(RunExecution x, RunChange change, IReadOnlyCollection<string> busy, IReadOnlyDictionary<string, DateTimeOffset> notBefore)
    {
        var changed = change.Steps.Where(c => c.State is not null).GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.Last().State!, StringComparer.Ordinal);
        string StateOf(StepRow step) => changed.GetValueOrDefault(step.Id, step.State);
        var added = change.NewSteps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        bool Done(string id) => !added.Contains(id) && x.Steps.TryGetValue(id, out var dependency) && StateOf(dependency) == StepStates.Succeeded;

        var budget = x.Agent.BudgetUsd;
        if ((change.State ?? x.Run.State) != RunStates.Running || change.Steps.Any(c => c.State == StepStates.Failed)
            || x.Steps.Values.Any(s => StateOf(s) == StepStates.Failed) || budget is { } limit && x.Run.CostUsd + change.CostUsd >= limit)
        {
            return;
        }

        var now = time.GetUtcNow();
        var slots = _options.MaxParallelStepsPerRun - busy.Count;
        var startable = x.Steps.Values
            .Where(s => !added.Contains(s.Id) && !busy.Contains(s.Id) && StateOf(s) is StepStates.Pending or StepStates.Approved)
            .Where(s => !NeedsDecision(x.Agent, s.Kind, s.Tool, StateOf(s)) && (!notBefore.TryGetValue(s.Id, out var at) || at <= now))
            .Where(s => s.DependsOn.All(Done))
            .OrderBy(s => s.Position);
        foreach (var step in startable.Take(Math.Max(slots, 0)).ToList())
        {
            slots--;
            change.Steps.Add(new StepChange { Id = step.Id, State = StepStates.Running, Attempts = step.Attempts + 1, Started = true });
            change.Events.Add(new("step.started", step.Id, new JsonObject { ["attempt"] = step.Attempts + 1, ["kind"] = step.Kind }));
        }

        for (var i = 0; i < change.NewSteps.Count && slots > 0; i++)
        {
            var step = change.NewSteps[i];
            if (!NeedsDecision(x.Agent, step.Kind, step.Tool, StepStates.Pending) && step.DependsOn.All(Done))
            {
                slots--;
                change.NewSteps[i] = step with { Started = true };
                var attempt = (x.Steps.GetValueOrDefault(step.Id)?.Attempts ?? 0) + 1;
                change.Events.Add(new("step.started", step.Id, new JsonObject { ["attempt"] = attempt, ["kind"] = step.Kind }));
            }
        }
    }

    /// <summary>An approval step, or a tool the agent wants a person to approve first, waits for that decision before it runs.</summary>
    private static bool NeedsDecision(RunAgent agent, string kind, string? tool, string state) =>
        state == StepStates.Pending && (kind == StepKinds.Approval || kind == StepKinds.Tool && agent.Approvals.Require.Contains(tool));

    /// <summary>Steps whose dependencies all succeeded and that are not finished.</summary>
    private static IEnumerable<StepRow> Ready(RunExecution x) => x.Steps.Values
        .Where(s => s.State is StepStates.Pending or StepStates.Running or StepStates.Approved
            || s.State == StepStates.WaitingApproval && s.Kind == StepKinds.Tool && s.InvocationId is not null)
        .Where(s => s.DependsOn.All(d => x.Steps.TryGetValue(d, out var dependency) && dependency.State == StepStates.Succeeded))
        .OrderBy(s => s.Position);

    /// <summary>
    /// An approval step, or a tool the agent says needs a human first, waits for a decision through this API; true
    /// when the step may run now.
    /// </summary>
    private async Task<bool> GateAsync(RunExecution x, StepRow step)
    {
        if (!NeedsDecision(x.Agent, step.Kind, step.Tool, step.State))
        {
            return true;
        }

        await CommitAsync(x, new RunChange
        {
            Steps = { new StepChange { Id = step.Id, State = StepStates.WaitingApproval } },
            Events = { new("step.waiting_approval", step.Id, new JsonObject { ["kind"] = step.Kind, ["tool"] = step.Tool, ["decidedHere"] = true }) },
        });
        return false;
    }

    private async Task CommitAsync(RunExecution x, RunChange change)
    {
        if (!await TryCommitAsync(x, change))
        {
            throw new LeaseLostException();
        }
    }

    private async Task<bool> TryCommitAsync(RunExecution x, RunChange change)
    {
        var result = await store.CommitAsync(x.Run.Id, RunWriter.Leaseholder(x.Owner), change, _options.Lease);
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

    private sealed record Attempt(StepRow Step, int Number, DateTimeOffset Started, StepOutcome Outcome);

    private sealed class LeaseLostException : Exception;

    [LoggerMessage(LogLevel.Warning, "Run {RunId} is no longer held by this replica; another one carries it on")]
    private partial void LogLeaseLost(Guid runId);

    [LoggerMessage(LogLevel.Information, "Run {RunId}, {Step}: {Reason}; asking again")]
    private partial void LogTransient(Guid runId, string step, string reason);

    [LoggerMessage(LogLevel.Warning, "Run {RunId}, {Step}: the model could not answer ({Reason}); asking the fallback model {Fallback}")]
    private partial void LogFallback(Guid runId, string step, string fallback, string reason);

    [LoggerMessage(LogLevel.Warning, "A revoked run key is still in the Redis index until the next sync")]
    private partial void LogKeyNotWithdrawn(Exception exception);
}
