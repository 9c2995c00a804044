using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using System.Text.RegularExpressions;
using Platform.Orchestrator.Runs.Steps;
using Platform.Tool.Schemas;

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

    private async Task<Attempt> AttemptAsync(RunExecution x, StepRow step, CancellationToken token)
    {
        // A step found running was interrupted: its attempt is asked again under the same idempotency key.
        var number = step.State is StepStates.Running or StepStates.WaitingApproval ? Math.Max(step.Attempts, 1) : step.Attempts + 1;
        var started = time.GetUtcNow();
        if (step.State is not (StepStates.Running or StepStates.WaitingApproval))
        {
            await CommitAsync(x, new RunChange
            {
                State = x.Run.State == RunStates.Running ? null : RunStates.Running,
                Steps = { new StepChange { Id = step.Id, State = StepStates.Running, Attempts = number, Started = true } },
                Events = { new("step.started", step.Id, new JsonObject { ["attempt"] = number, ["kind"] = step.Kind }) },
            });
        }

        var slot = _tenantSlots.GetOrAdd(x.Run.TenantId, _ => new SemaphoreSlim(_options.MaxConcurrentStepsPerTenant));
        await slot.WaitAsync(token);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(TimeSpan.FromSeconds(x.Agent.Timeouts.StepSeconds));
            try
            {
                while (true)
                {
                    var outcome = await CallAsync(x, step, number, timeout.Token);
                    if (outcome is not StepOutcome.Transient transient)
                    {
                        return new Attempt(step, number, started, outcome);
                    }

                    LogTransient(x.Run.Id, step.Id, transient.Reason);
                    await Task.Delay(transient.RetryAfter, time, timeout.Token);
                }
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                return new Attempt(step, number, started, new StepOutcome.Failed($"The step took longer than its {x.Agent.Timeouts.StepSeconds} s."));
            }
        }
        finally
        {
            slot.Release();
        }
    }

    private Task<StepOutcome> CallAsync(RunExecution x, StepRow step, int attempt, CancellationToken token)
    {
        var key = $"run:{x.Run.Id}:step:{step.Id}:attempt:{attempt}";
        switch (step.Kind)
        {
            case StepKinds.Model when OverBudget(x):
                return Task.FromResult<StepOutcome>(new StepOutcome.Failed(BudgetSpent(x), Final: true));
            case StepKinds.Model when x.Agent.Mode == "react" && ReactTurns.IsTurn(step):
                return TakeTurnAsync(x, step, key, token);
            case StepKinds.Model when step.Acceptance is { Length: > 0 } && x.Agent.AcceptanceModel is not null:
                return CheckedAsync(x, step, key, token);
            case StepKinds.Model:
                return CompleteAsync(x, step, key, token);
            case StepKinds.Tool when step.Tool is { } tool:
                return tools.InvokeAsync(x.RunKey, tool, StepInputs.Arguments(step, x.Steps), $"{key}:call:0", x.Run.Id, step.Id, token);
            default:
                return Task.FromResult<StepOutcome>(new StepOutcome.Failed($"A '{step.Kind}' step cannot run here.", Final: true));
        }
    }

    /// <summary>The agent's model answers, or when it cannot (every deployment of its alias failed) the fallback model.</summary>
    private async Task<StepOutcome> CompleteAsync(RunExecution x, StepRow step, string key, CancellationToken token)
    {
        var outputSchema = IsLast(x, step) ? x.Agent.OutputSchema : null;
        var outcome = await models.CompleteAsync(x.RunKey, x.Agent.Model, StepInputs.Messages(x.Run, x.Agent, step, x.Steps), outputSchema,
            key, x.Run.Id, step.Id, token);
        if (outcome is not StepOutcome.Failed { ModelUnavailable: true } unavailable || x.Agent.FallbackModel is not { } fallback)
        {
            return outcome is StepOutcome.Succeeded answered ? answered with { Model = x.Agent.Model } : outcome;
        }

        LogFallback(x.Run.Id, step.Id, fallback, unavailable.Reason);
        var fromFallback = await models.CompleteAsync(x.RunKey, fallback, StepInputs.Messages(x.Run, x.Agent, step, x.Steps), outputSchema,
            $"{key}:fallback", x.Run.Id, step.Id, token);
        return fromFallback is StepOutcome.Succeeded fallbackAnswered ? fallbackAnswered with { Model = fallback } : fromFallback;
    }

    /// <summary>
    /// A model step whose answer the agent's acceptance model judges against the step's criterion: an answer that
    /// fails is the step's failure (retried, then planned around), and both calls are paid for either way.
    /// </summary>
    private async Task<StepOutcome> CheckedAsync(RunExecution x, StepRow step, string key, CancellationToken token)
    {
        var outcome = await CompleteAsync(x, step, key, token);
        if (outcome is not StepOutcome.Succeeded answered)
        {
            return outcome;
        }

        var verdict = await models.JudgeAsync(x.RunKey, x.Agent.AcceptanceModel!, step.Acceptance!, Shown(answered.Output), $"{key}:acceptance", x.Run.Id, step.Id, token);
        if (verdict is not StepOutcome.Succeeded judged)
        {
            return verdict;
        }

        var paid = (Cost: answered.CostUsd + judged.CostUsd, Prompt: answered.PromptTokens + judged.PromptTokens, Completion: answered.CompletionTokens + judged.CompletionTokens);
        var (passed, reason) = ReadVerdict(judged.Output);
        return passed
            ? answered with { CostUsd = paid.Cost, PromptTokens = paid.Prompt, CompletionTokens = paid.Completion }
            : new StepOutcome.Failed($"The answer did not pass its acceptance check: {reason}")
            {
                CostUsd = paid.Cost, PromptTokens = paid.Prompt, CompletionTokens = paid.Completion,
            };
    }

    private static string Shown(JsonNode? output)
    {
        var text = output is JsonValue value && value.TryGetValue<string>(out var s) ? s : output?.ToJsonString() ?? "";
        return text.Length <= 16_384 ? text : text[..16_384] + "…";
    }

    private static (bool Passed, string Reason) ReadVerdict(JsonNode? output)
    {
        try
        {
            var verdict = JsonNode.Parse(output?.GetValue<string>() ?? "null");
            return (verdict?["verdict"]?.GetValue<string>() == "pass", verdict?["reason"]?.GetValue<string>() ?? "no reason given");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            return (false, $"the acceptance model's verdict is unreadable ({e.Message})");
        }
    }

    /// <summary>One turn of a react loop: the conversation so far, and the agent's tools unless the turn must answer.</summary>
    private async Task<StepOutcome> TakeTurnAsync(RunExecution x, StepRow turn, string key, CancellationToken token)
    {
        JsonArray? functions = null;
        if (!ReactTurns.MustAnswer(x.Agent, x.Steps, turn))
        {
            (functions, var unavailable) = await tools.FunctionsAsync(x.RunKey, x.Agent.Tools, token);
            if (unavailable is not null)
            {
                return unavailable;
            }
        }

        var outcome = await models.CompleteAsync(x.RunKey, x.Agent.Model, ReactTurns.Conversation(x.Run, x.Agent, x.Steps, turn), x.Agent.OutputSchema,
            key, x.Run.Id, turn.Id, token, functions, functions is null ? null : "auto");
        return outcome is StepOutcome.Succeeded answered ? answered with { Model = x.Agent.Model } : outcome;
    }

    /// <summary>What records an attempt's outcome, and when to try the step again, if it is to be.</summary>
    private (RunChange Change, DateTimeOffset? RetryAt) Record(RunExecution x, Attempt attempt)
    {
        var step = attempt.Step;
        var log = new JsonObject
        {
            ["attempt"] = attempt.Number,
            ["startedAt"] = attempt.Started,
            ["endedAt"] = time.GetUtcNow(),
        };
        switch (attempt.Outcome)
        {
            case StepOutcome.Succeeded succeeded:
                var (output, next) = x.Agent.Mode == "react" && ReactTurns.IsTurn(step) && succeeded.Output is { } said
                    ? ReactTurns.After(x.Agent, x.Steps, step, said)
                    : (succeeded.Output, []);
                log["outcome"] = "succeeded";
                if (succeeded.Model is { } model)
                {
                    log["model"] = model;
                }

                var success = new RunChange
                {
                    CostUsd = succeeded.CostUsd,
                    PromptTokens = succeeded.PromptTokens,
                    CompletionTokens = succeeded.CompletionTokens,
                    Steps =
                    {
                        new StepChange
                        {
                            Id = step.Id, State = StepStates.Succeeded, Attempt = log, Output = output,
                            ClearError = true, InvocationId = succeeded.InvocationId, CostUsd = succeeded.CostUsd, PromptTokens = succeeded.PromptTokens,
                            CompletionTokens = succeeded.CompletionTokens, Finished = true,
                        },
                    },
                    Events =
                    {
                        new("step.succeeded", step.Id, new JsonObject
                        {
                            ["attempt"] = attempt.Number,
                            ["model"] = succeeded.Model,
                            ["costUsd"] = succeeded.CostUsd,
                            ["output"] = Preview(output),
                        }),
                    },
                };
                success.NewSteps.AddRange(next);
                return (success, null);
            case StepOutcome.Parked parked:
                var park = new RunChange { Steps = { new StepChange { Id = step.Id, State = StepStates.WaitingApproval, InvocationId = parked.InvocationId } } };
                if (step.State != StepStates.WaitingApproval)
                {
                    park.Events.Add(new("step.waiting_approval", step.Id, new JsonObject { ["kind"] = step.Kind, ["tool"] = step.Tool, ["invocationId"] = parked.InvocationId }));
                }

                return (park, null);
            case StepOutcome.Failed failed:
                log["outcome"] = "failed";
                log["error"] = failed.Reason;
                var (retry, delay, replannable, retryable) = StepRetries.After(failed, attempt.Number, x.Agent.Retries);
                return (new RunChange
                {
                    CostUsd = failed.CostUsd,
                    PromptTokens = failed.PromptTokens,
                    CompletionTokens = failed.CompletionTokens,
                    Steps =
                    {
                        new StepChange
                        {
                            Id = step.Id, State = retry ? StepStates.Pending : StepStates.Failed, Attempt = log, Error = failed.Reason,
                            Replannable = retry ? null : replannable, InvocationId = failed.InvocationId, Finished = !retry, CostUsd = failed.CostUsd,
                            PromptTokens = failed.PromptTokens, CompletionTokens = failed.CompletionTokens,
                        },
                    },
                    Events =
                    {
                        retry
                            ? new("step.retrying", step.Id, new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason, ["delaySeconds"] = delay.TotalSeconds })
                            : new("step.failed", step.Id, new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason, ["final"] = failed.Final, ["retryable"] = retryable }),
                    },
                }, retry ? time.GetUtcNow() + delay : null);
            default:
                throw new InvalidOperationException($"An attempt ended as {attempt.Outcome.GetType().Name}, which is retried before it is recorded.");
        }
    }

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

/// <summary>A run as this replica knows it while it holds it.</summary>
public sealed class RunExecution(RunRow run, IReadOnlyList<StepRow> steps, RunAgent agent, string runKey, string owner)
{
    public RunRow Run { get; } = run;
    public Dictionary<string, StepRow> Steps { get; } = steps.ToDictionary(s => s.Id, StringComparer.Ordinal);
    public RunAgent Agent { get; } = agent;
    public string RunKey { get; } = runKey;
    public string Owner { get; } = owner;

    /// <summary>Keeps this copy equal to what <see cref="RunStore.CommitAsync"/> wrote.</summary>
    public void Apply(RunChange change, DateTime now)
    {
        Run.State = change.State ?? Run.State;
        Run.Reason = change.Reason ?? Run.Reason;
        Run.PlanId = change.PlanId ?? Run.PlanId;
        Run.PlanRevision = change.PlanRevision ?? Run.PlanRevision;
        Run.Replans += change.Replans;
        Run.CostUsd += change.CostUsd;
        Run.PromptTokens += change.PromptTokens;
        Run.CompletionTokens += change.CompletionTokens;
        foreach (var step in change.NewSteps)
        {
            // A step a re-plan replaced keeps counting its attempts, as its row does.
            var replaced = Steps.GetValueOrDefault(step.Id);
            Steps[step.Id] = new StepRow
            {
                RunId = Run.Id, Id = step.Id, Position = step.Position, Kind = step.Kind, Title = step.Title, Instruction = step.Instruction,
                Tool = step.Tool, Arguments = step.Arguments?.ToJsonString(), DependsOn = step.DependsOn, Acceptance = step.Acceptance,
                Compensation = step.Compensation?.ToJsonString(), AttemptLog = replaced?.AttemptLog ?? "[]",
                State = step.Started ? StepStates.Running : StepStates.Pending,
                Attempts = (replaced?.Attempts ?? 0) + (step.Started ? 1 : 0),
                StartedAt = step.Started ? now : null,
            };
        }

        foreach (var stepChange in change.Steps)
        {
            var step = Steps[stepChange.Id];
            step.State = stepChange.State ?? step.State;
            step.Attempts = stepChange.Attempts ?? step.Attempts;
            step.Output = stepChange.Output?.ToJsonString() ?? step.Output;
            step.Error = stepChange.ClearError ? null : stepChange.Error ?? step.Error;
            step.Replannable = stepChange.Replannable ?? step.Replannable;
            step.CompensationState = stepChange.ClearCompensation ? null : stepChange.CompensationState ?? step.CompensationState;
            step.CompensationError = stepChange.ClearCompensation ? null : stepChange.CompensationError ?? step.CompensationError;
            step.InvocationId = stepChange.InvocationId ?? step.InvocationId;
            step.CostUsd += stepChange.CostUsd;
            step.StartedAt = stepChange.Started ? now : step.StartedAt;
            step.FinishedAt = stepChange.Finished ? now : step.FinishedAt;
        }
    }
}
