using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>A run's output made of its steps' answers, and the bounded copies of outputs its events carry.</summary>
public static class RunOutputs
{
    private const int MaxPreview = 2048;

    /// <summary>The last step's answer; when the plan ends in several steps, their answers by step id.</summary>
    public static JsonNode? Of(RunExecution x)
    {
        var last = x.Live.Where(x.IsLast).OrderBy(s => s.Position).ToList();
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

    /// <summary>An output as an event shows it: whole when short, else the start of its JSON.</summary>
    public static JsonNode? Preview(JsonNode? output)
    {
        var json = output?.ToJsonString() ?? "null";
        return json.Length <= MaxPreview ? output?.DeepClone() : JsonValue.Create(json[..MaxPreview] + "…");
    }

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
}
