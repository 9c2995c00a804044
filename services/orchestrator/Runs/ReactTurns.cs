using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// A react agent's loop as steps: model turn <c>turn-N</c> may call tools, each call is step <c>turn-N-call-I</c>, and
/// the next turn depends on them, so the loop is recorded, replayed and resumed like any plan. A turn is shown the
/// whole conversation so far, rebuilt from the recorded steps.
/// </summary>
public static class ReactTurns
{
    private const int MaxShownResult = 8 * 1024;

    public static NewStep First() => Turn(1, 0, []);

    public static bool IsTurn(StepRow step) => step.Kind == StepKinds.Model && step.Id.StartsWith("turn-", StringComparison.Ordinal);

    /// <summary>Whether this turn must answer without calling tools: the agent's last turn, or its tool calls are spent.</summary>
    public static bool MustAnswer(RunAgent agent, IReadOnlyDictionary<string, StepRow> steps, StepRow turn) =>
        Number(turn) >= agent.MaxSteps || ToolCallsMade(steps) >= agent.MaxToolCalls;

    public static JsonArray Conversation(RunRow run, RunAgent agent, IReadOnlyDictionary<string, StepRow> steps, StepRow turn)
    {
        var messages = new JsonArray();
        if (agent.Instructions.Length > 0)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = agent.Instructions });
        }

        var task = new StringBuilder(run.Goal);
        if (run.Input is { } input)
        {
            task.Append("\n\nInput: ").Append(input);
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = task.ToString() });
        for (var n = 1; n < Number(turn); n++)
        {
            if (!steps.TryGetValue(TurnId(n), out var earlier) || JsonNode.Parse(earlier.Output ?? "null") is not { } said)
            {
                continue;
            }

            if (said is not JsonObject { } withCalls)
            {
                messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = said.DeepClone() });
                continue;
            }

            var calls = withCalls["toolCalls"]!.AsArray();
            messages.Add(new JsonObject
            {
                ["role"] = "assistant",
                ["content"] = withCalls["content"]?.DeepClone(),
                ["tool_calls"] = new JsonArray([.. calls.Select(c => new JsonObject
                {
                    ["id"] = c!["id"]!.DeepClone(),
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = c["name"]!.DeepClone(), ["arguments"] = c["arguments"]!.DeepClone() },
                })]),
            });
            for (var i = 0; i < calls.Count; i++)
            {
                messages.Add(new JsonObject
                {
                    ["role"] = "tool",
                    ["tool_call_id"] = calls[i]!["id"]!.DeepClone(),
                    ["content"] = Result(calls[i]!, steps.GetValueOrDefault(CallId(n, i))),
                });
            }
        }

        return messages;
    }

    /// <summary>
    /// What follows a turn that called tools: a step per call the agent allows (others are marked skipped, with why,
    /// in the turn's own output) and the next turn after them. A turn that answered is the last.
    /// </summary>
    public static (JsonNode Output, List<NewStep> Next) After(RunAgent agent, IReadOnlyDictionary<string, StepRow> steps, StepRow turn, JsonNode output)
    {
        if (output is not JsonObject { } withCalls || Number(turn) >= agent.MaxSteps)
        {
            return (output, []);
        }

        var n = Number(turn);
        var position = steps.Values.Max(s => s.Position);
        var budget = agent.MaxToolCalls - ToolCallsMade(steps);
        var recorded = (JsonObject)withCalls.DeepClone();
        var calls = recorded["toolCalls"]!.AsArray();
        var next = new List<NewStep>();
        for (var i = 0; i < calls.Count; i++)
        {
            var call = calls[i]!.AsObject();
            var tool = ToolCalls.ToolName(call["name"]!.GetValue<string>());
            var arguments = ParseObject(call["arguments"]!.GetValue<string>());
            var skipped = agent.Tools.Length > 0 && !agent.Tools.Contains(tool) ? $"'{tool}' is not one of this agent's tools."
                : arguments is null ? "The arguments are not a JSON object."
                : next.Count >= budget ? $"The agent's limit of {agent.MaxToolCalls} tool calls is reached."
                : null;
            if (skipped is not null)
            {
                call["skipped"] = skipped;
                continue;
            }

            next.Add(new NewStep(CallId(n, i), ++position, StepKinds.Tool, $"Call {tool}", "", tool, arguments, [turn.Id], null,
                agent.Compensations.TryGetValue(tool, out var undo) ? new JsonObject { ["tool"] = undo.Tool, ["arguments"] = undo.Arguments.DeepClone() } : null));
        }

        next.Add(Turn(n + 1, ++position, next.Count > 0 ? [.. next.Select(s => s.Id)] : [turn.Id]));
        return (recorded, next);
    }

    private static NewStep Turn(int n, int position, string[] dependsOn) =>
        new(TurnId(n), position, StepKinds.Model, $"Turn {n}", "", null, null, dependsOn, null, null);

    private static string TurnId(int n) => $"turn-{n}";

    private static string CallId(int turn, int call) => $"turn-{turn}-call-{call}";

    private static int Number(StepRow turn) => int.Parse(turn.Id.AsSpan("turn-".Length), System.Globalization.CultureInfo.InvariantCulture);

    private static int ToolCallsMade(IReadOnlyDictionary<string, StepRow> steps) => steps.Values.Count(s => s.Kind == StepKinds.Tool);

    private static string Result(JsonNode call, StepRow? step)
    {
        var text = call["skipped"]?.GetValue<string>() is { } skipped ? $"Not run: {skipped}"
            : step is null ? "Not run."
            : step.State == StepStates.Succeeded ? step.Output ?? "null"
            : $"Failed: {step.Error}";
        return text.Length <= MaxShownResult ? text : text[..MaxShownResult] + "…";
    }

    private static JsonObject? ParseObject(string json)
    {
        try
        {
            return JsonNode.Parse(json.Length == 0 ? "{}" : json) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
