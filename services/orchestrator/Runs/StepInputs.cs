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
        step.Arguments is { } json && JsonNode.Parse(json) is JsonObject arguments ? (JsonObject)Fill(arguments, steps)! : [];

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

    private static JsonNode? Fill(JsonNode? node, IReadOnlyDictionary<string, StepRow> steps) => node switch
    {
        JsonObject obj => new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Fill(p.Value, steps)))),
        JsonArray array => new JsonArray([.. array.Select(item => Fill(item, steps))]),
        JsonValue value when value.TryGetValue<string>(out var text) => FillText(text, steps),
        _ => node?.DeepClone(),
    };

    /// <summary>A string that is one reference becomes the value itself (a number stays a number); else references are spliced in as text.</summary>
    private static JsonNode? FillText(string text, IReadOnlyDictionary<string, StepRow> steps)
    {
        var whole = Reference().Match(text);
        if (whole.Success && whole.Length == text.Length)
        {
            return Resolve(whole, steps)?.DeepClone();
        }

        return JsonValue.Create(Reference().Replace(text, match => Resolve(match, steps) switch
        {
            JsonValue value when value.TryGetValue<string>(out var s) => s,
            null => "",
            var other => other.ToJsonString(),
        }));
    }

    private static JsonNode? Resolve(Match reference, IReadOnlyDictionary<string, StepRow> steps)
    {
        if (!steps.TryGetValue(reference.Groups["id"].Value, out var step))
        {
            return null;
        }

        var node = JsonNode.Parse(step.Output ?? "null");
        foreach (var field in reference.Groups["path"].Value.Split('.', StringSplitOptions.RemoveEmptyEntries))
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
    private static partial Regex Reference();
}
