using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>The call a step's attempt makes, by its kind: a model's answer (checked, or a react turn) or a tool call.</summary>
public sealed class StepCalls(ModelCalls models, ToolCalls tools, ILogger<StepCalls> logger)
{
    private const int MaxShownToJudge = 16_384;

    /// <summary>
    /// Asks once under <paramref name="key"/>, the attempt's idempotency key: the same key gets the answer recorded
    /// for it, so a replica repeating an interrupted call never pays for it or runs its effect twice.
    /// </summary>
    public Task<StepOutcome> CallAsync(RunExecution x, StepRow step, string key, CancellationToken token)
    {
        switch (step.Kind)
        {
            case StepKinds.Model when x.OverBudget:
                return Task.FromResult<StepOutcome>(new StepOutcome.Failed(x.BudgetSpent, Final: true));
            case StepKinds.Model when x.Agent.Mode == AgentMode.React && ReactTurns.IsTurn(step):
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
        var outputSchema = x.IsLast(step) ? x.Agent.OutputSchema : null;
        var outcome = await models.CompleteAsync(x.RunKey, x.Agent.Model, StepInputs.Messages(x.Run, x.Agent, step, x.Steps), outputSchema,
            key, x.Run.Id, step.Id, token);
        if (outcome is not StepOutcome.Failed { ModelUnavailable: true } unavailable || x.Agent.FallbackModel is not { } fallback)
        {
            return AnsweredBy(outcome, x.Agent.Model);
        }

        logger.AskingFallback(x.Run.Id, step.Id, fallback, unavailable.Reason);
        var fromFallback = await models.CompleteAsync(x.RunKey, fallback, StepInputs.Messages(x.Run, x.Agent, step, x.Steps), outputSchema,
            $"{key}:fallback", x.Run.Id, step.Id, token);
        return AnsweredBy(fromFallback, fallback);
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
        return AnsweredBy(outcome, x.Agent.Model);
    }

    /// <summary>Names the model that answered, which the attempt's log records.</summary>
    private static StepOutcome AnsweredBy(StepOutcome outcome, string model) =>
        outcome is StepOutcome.Succeeded answered ? answered with { Model = model } : outcome;

    private static string Shown(JsonNode? output)
    {
        var text = output is JsonValue value && value.TryGetValue<string>(out var s) ? s : output?.ToJsonString() ?? "";
        return text.Length <= MaxShownToJudge ? text : text[..MaxShownToJudge] + "…";
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
}
