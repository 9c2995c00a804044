using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs;

/// <summary>One attempt at a step: the model or tool call it makes, an acceptance check, a ReAct turn.</summary>
public sealed partial class RunExecutor
{
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
}
