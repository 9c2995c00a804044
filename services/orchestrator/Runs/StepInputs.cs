using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// What a step is given: tool arguments with references to earlier outputs (<c>{{steps.&lt;id&gt;.output.&lt;field&gt;}}</c>,
/// as planning writes them) filled in, and a model step's messages.
/// </summary>
public static partial class StepInputs
{
    /// <summary>The most of an earlier output a model step is shown.</summary>
    private const int MaxShownOutput = 8 * 1024;

    public static JsonObject Arguments(StepRow step, IReadOnlyDictionary<string, StepRow> steps) =>
        step.Arguments is { } json && JsonNode.Parse(json) is JsonObject arguments
            ? (JsonObject)Fill(arguments, StepReference(), match => Resolve(match, steps))!
            : [];

    /// <summary>
    /// The call undoing <paramref name="step"/>: its compensation's tool, with <c>{{output.…}}</c> and
    /// <c>{{arguments.…}}</c> taken from what the step was given and answered.
    /// </summary>
    public static (string Tool, JsonObject Arguments) Compensation(StepRow step, IReadOnlyDictionary<string, StepRow> steps)
    {
        var compensation = JsonNode.Parse(step.Compensation!)!;
        var given = Arguments(step, steps);
        var answered = JsonNode.Parse(step.Output ?? "null");
        var arguments = Fill(compensation["arguments"], OwnReference(), match =>
            Walk(match.Groups["root"].Value == "output" ? answered : given, match.Groups["path"].Value));
        return (compensation["tool"]!.GetValue<string>(), arguments as JsonObject ?? []);
    }

    public static JsonArray Messages(RunRow run, RunAgent agent, StepRow step, IReadOnlyDictionary<string, StepRow> steps)
    {
        var prompt = new StringBuilder().Append("Goal: ").Append(run.Goal);
        if (run.Input is { } input)
        {
            prompt.Append("\n\nInput: ").Append(input);
        }

        prompt.Append("\n\nYour step: ").Append(step.Title);
        if (step.Instruction.Length > 0)
        {
            prompt.Append("\n").Append(step.Instruction);
        }

        foreach (var dependency in step.DependsOn.Where(steps.ContainsKey).Select(id => steps[id]))
        {
            var output = dependency.Output ?? "null";
            prompt.Append("\n\nResult of \"").Append(dependency.Title).Append("\": ")
                .Append(output.Length <= MaxShownOutput ? output : output[..MaxShownOutput] + "…");
        }

        if (step.Acceptance is { Length: > 0 } acceptance)
        {
            prompt.Append("\n\nThe answer must satisfy: ").Append(acceptance);
        }

        var messages = new JsonArray();
        if (agent.Instructions.Length > 0)
        {
            messages.Add(new JsonObject { ["role"] = "system", ["content"] = agent.Instructions });
        }

        messages.Add(new JsonObject { ["role"] = "user", ["content"] = prompt.ToString() });
        return messages;
    }

    private static JsonNode? Fill(JsonNode? node, Regex reference, Func<Match, JsonNode?> resolve) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Fill(p.Value, reference, resolve)))),
        JsonArray array => new JsonArray([.. array.Select(item => Fill(item, reference, resolve))]),
        JsonValue value when value.TryGetValue<string>(out var text) => FillText(text, reference, resolve),
        _ => node?.DeepClone(),
    };

    /// <summary>A string that is one reference becomes the value itself (a number stays a number); else references are spliced in as text.</summary>
    private static JsonNode? FillText(string text, Regex reference, Func<Match, JsonNode?> resolve)
    {
        var whole = reference.Match(text);
        if (whole.Success && whole.Length == text.Length)
        {
            return resolve(whole)?.DeepClone();
        }

        return JsonValue.Create(reference.Replace(text, match => resolve(match) switch
        {
            JsonValue value when value.TryGetValue<string>(out var s) => s,
            null => "",
            var other => other.ToJsonString(),
        }));
    }

    private static JsonNode? Resolve(Match reference, IReadOnlyDictionary<string, StepRow> steps) =>
        steps.TryGetValue(reference.Groups["id"].Value, out var step)
            ? Walk(JsonNode.Parse(step.Output ?? "null"), reference.Groups["path"].Value)
            : null;

    private static JsonNode? Walk(JsonNode? node, string path)
    {
        foreach (var field in path.Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            node = node switch
            {
                JsonObject obj => obj[field],
                JsonArray array when int.TryParse(field, out var index) && index >= 0 && index < array.Count => array[index],
                _ => null,
            };
        }

        return node;
    }

    [GeneratedRegex(@"\{\{\s*steps\.(?<id>[A-Za-z0-9_-]+)\.output(?<path>(\.[A-Za-z0-9_-]+)*)\s*\}\}")]
    private static partial Regex StepReference();

    [GeneratedRegex(@"\{\{\s*(?<root>output|arguments)(?<path>(\.[A-Za-z0-9_-]+)*)\s*\}\}")]
    private static partial Regex OwnReference();
}
