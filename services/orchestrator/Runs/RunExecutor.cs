using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using NJsonSchema;
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
        if (x.Agent.Mode != "plan")
        {
            await EndAsync(x, RunStates.Failed, $"Agent mode '{x.Agent.Mode}' is not run by this orchestrator version; use mode 'plan'.");
            return false;
        }

        if (x.Run.State == RunStates.Queued)
        {
            await CommitAsync(x, new RunChange { State = RunStates.Planning, Events = { new("run.planning", null, []) } });
        }

        while (true)
        {
            switch (await plans.PlanAsync(x.RunKey, x.Run, x.Agent, token))
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
                    await CommitAsync(x, change);
                    return true;
                case PlanCalls.Outcome.Refused refused:
                    await EndAsync(x, RunStates.Failed, refused.Reason);
                    return false;
                case PlanCalls.Outcome.Transient transient:
                    LogTransient(x.Run.Id, "plan", transient.Reason);
                    await Task.Delay(transient.RetryAfter, time, token);
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
            if (running.Count == 0 && await EndIfDecidedAsync(x))
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
                    await EndAsync(x, RunStates.Failed, "No step can run: every remaining step depends on one that did not succeed.");
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

            if (await RecordAsync(x, attempt) is { } retryAt)
            {
                notBefore[attempt.Step.Id] = retryAt;
            }
        }
    }

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
        var needsDecision = step.State == StepStates.Pending
            && (step.Kind == StepKinds.Approval || step.Kind == StepKinds.Tool && x.Agent.Approvals.Require.Contains(step.Tool));
        if (!needsDecision)
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
                Steps = { new StepChange { Id = step.Id, State = StepStates.Running, Attempts = number, StartedAt = started.UtcDateTime } },
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
            case StepKinds.Model:
                return models.CompleteAsync(x.RunKey, x.Agent.Model, StepInputs.Messages(x.Run, x.Agent, step, x.Steps),
                    IsLast(x, step) ? x.Agent.OutputSchema : null, key, x.Run.Id, step.Id, token);
            case StepKinds.Tool when step.Tool is { } tool:
                return tools.InvokeAsync(x.RunKey, tool, StepInputs.Arguments(step, x.Steps), $"{key}:call:0", x.Run.Id, step.Id, token);
            default:
                return Task.FromResult<StepOutcome>(new StepOutcome.Failed($"A '{step.Kind}' step cannot run here.", Final: true));
        }
    }

    /// <summary>Records an attempt's outcome; answers when to try the step again, if it is to be.</summary>
    private async Task<DateTimeOffset?> RecordAsync(RunExecution x, Attempt attempt)
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
                log["outcome"] = "succeeded";
                await CommitAsync(x, new RunChange
                {
                    CostUsd = succeeded.CostUsd,
                    PromptTokens = succeeded.PromptTokens,
                    CompletionTokens = succeeded.CompletionTokens,
                    Steps =
                    {
                        new StepChange
                        {
                            Id = step.Id, State = StepStates.Succeeded, Attempt = log, Output = succeeded.Output,
                            ClearError = true, InvocationId = succeeded.InvocationId, CostUsd = succeeded.CostUsd, PromptTokens = succeeded.PromptTokens,
                            CompletionTokens = succeeded.CompletionTokens, Finished = true,
                        },
                    },
                    Events =
                    {
                        new("step.succeeded", step.Id, new JsonObject
                        {
                            ["attempt"] = attempt.Number,
                            ["costUsd"] = succeeded.CostUsd,
                            ["output"] = Preview(succeeded.Output),
                        }),
                    },
                });
                return null;
            case StepOutcome.Parked parked:
                var park = new RunChange { Steps = { new StepChange { Id = step.Id, State = StepStates.WaitingApproval, InvocationId = parked.InvocationId } } };
                if (step.State != StepStates.WaitingApproval)
                {
                    park.Events.Add(new("step.waiting_approval", step.Id, new JsonObject { ["kind"] = step.Kind, ["tool"] = step.Tool, ["invocationId"] = parked.InvocationId }));
                }

                await CommitAsync(x, park);
                return null;
            case StepOutcome.Failed failed when !failed.Final && attempt.Number < x.Agent.Retries.MaxAttempts:
                var delay = TimeSpan.FromSeconds(x.Agent.Retries.BackoffSeconds * Math.Pow(2, attempt.Number - 1));
                log["outcome"] = "failed";
                log["error"] = failed.Reason;
                await CommitAsync(x, new RunChange
                {
                    Steps = { new StepChange { Id = step.Id, State = StepStates.Pending, Attempt = log, Error = failed.Reason, InvocationId = failed.InvocationId } },
                    Events = { new("step.retrying", step.Id, new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason, ["delaySeconds"] = delay.TotalSeconds }) },
                });
                return time.GetUtcNow() + delay;
            case StepOutcome.Failed failed:
                log["outcome"] = "failed";
                log["error"] = failed.Reason;
                await CommitAsync(x, new RunChange
                {
                    Steps = { new StepChange { Id = step.Id, State = StepStates.Failed, Attempt = log, Error = failed.Reason, InvocationId = failed.InvocationId, Finished = true } },
                    Events = { new("step.failed", step.Id, new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason }) },
                });
                return null;
            default:
                throw new InvalidOperationException($"An attempt ended as {attempt.Outcome.GetType().Name}, which is retried before it is recorded.");
        }
    }

    /// <summary>Ends the run when every step succeeded, one failed for good, or the budget is spent; true when it ended.</summary>
    private async Task<bool> EndIfDecidedAsync(RunExecution x)
    {
        if (x.Steps.Values.FirstOrDefault(s => s.State == StepStates.Failed) is { } failed)
        {
            await EndAsync(x, RunStates.Failed, $"Step '{failed.Id}' failed: {failed.Error}");
            return true;
        }

        if (OverBudget(x))
        {
            await EndAsync(x, RunStates.Failed, BudgetSpent(x));
            return true;
        }

        if (x.Steps.Count > 0 && x.Steps.Values.All(s => s.State == StepStates.Succeeded))
        {
            var output = Output(x);
            if (x.Agent.OutputSchema is { } schema && await OutputProblemAsync(schema, output) is { } problem)
            {
                await EndAsync(x, RunStates.Failed, $"The output does not match the agent's output schema: {problem}");
                return true;
            }

            await EndAsync(x, RunStates.Succeeded, null, output);
            return true;
        }

        return false;
    }

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
        await TryCommitAsync(x, new RunChange
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
        var last = x.Steps.Values.Where(s => IsLast(x, s)).OrderBy(s => s.Position).ToList();
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

    private static bool IsLast(RunExecution x, StepRow step) => !x.Steps.Values.Any(s => s.DependsOn.Contains(step.Id));

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

    private static async Task<string?> OutputProblemAsync(JsonElement schema, JsonNode? output)
    {
        var compiled = await JsonSchema.FromJsonAsync(schema.GetRawText());
        var errors = compiled.Validate(output?.ToJsonString() ?? "null");
        return errors.Count == 0 ? null : string.Join("; ", errors.Take(5).Select(e => $"{(e.Path is { Length: > 0 } path ? path : "#")}: {e.Kind}"));
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
            await signals.EventsCommittedAsync(x.Run.Id, result.LastSeq);
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
        Run.CostUsd += change.CostUsd;
        Run.PromptTokens += change.PromptTokens;
        Run.CompletionTokens += change.CompletionTokens;
        foreach (var step in change.NewSteps)
        {
            Steps[step.Id] = new StepRow
            {
                RunId = Run.Id, Id = step.Id, Position = step.Position, Kind = step.Kind, Title = step.Title, Instruction = step.Instruction,
                Tool = step.Tool, Arguments = step.Arguments?.ToJsonString(), DependsOn = step.DependsOn, Acceptance = step.Acceptance,
            };
        }

        foreach (var stepChange in change.Steps)
        {
            var step = Steps[stepChange.Id];
            step.State = stepChange.State ?? step.State;
            step.Attempts = stepChange.Attempts ?? step.Attempts;
            step.Output = stepChange.Output?.ToJsonString() ?? step.Output;
            step.Error = stepChange.ClearError ? null : stepChange.Error ?? step.Error;
            step.InvocationId = stepChange.InvocationId ?? step.InvocationId;
            step.CostUsd += stepChange.CostUsd;
            step.StartedAt = stepChange.StartedAt ?? step.StartedAt;
            step.FinishedAt = stepChange.Finished ? now : step.FinishedAt;
        }
    }
}
