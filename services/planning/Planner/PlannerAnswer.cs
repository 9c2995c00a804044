using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Planning.Plans;

namespace Platform.Planning.Planner;

/// <summary>
/// Reads a planner's answer into steps, leniently where the meaning is plain (a fenced code block, arguments as an
/// object rather than a string) and naming the field wherever it is not. Too many steps are refused before any is read.
/// </summary>
public static class PlannerAnswer
{
    private static readonly JsonDocumentOptions Limits = new() { MaxDepth = 64 };

    public static (IReadOnlyList<StepInput?> Steps, ErrorList Errors) Read(GatewayAnswer answer, int maxSteps)
    {
        var errors = new ErrorList();
        if ((answer.Problem ?? Refusal(answer)) is { } problem)
        {
            errors.Add("plan", problem);
            return ([], errors);
        }

        if (answer.FinishReason == "length")
        {
            errors.Add("plan", "The answer was cut off at the token limit: make the plan shorter.");
            return ([], errors);
        }

        try
        {
            if (JsonNode.Parse(Unfenced(answer.Content ?? ""), documentOptions: Limits) is not JsonObject { } root
                || root["steps"] is not JsonArray array)
            {
                errors.Add("plan", "The answer is a JSON object with a 'steps' array.");
                return ([], errors);
            }

            if (array.Count > maxSteps)
            {
                errors.Add("steps", $"The plan has {array.Count} steps; at most {maxSteps} are allowed (constraints.maxSteps).");
                return ([], errors);
            }

            return ([.. array.Select((item, i) => ReadStep(item, $"steps[{i}]", errors))], errors);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or ArgumentException or FormatException)
        {
            errors.Add("plan", $"The answer is not readable JSON: {ErrorList.Quote(e.Message)}");
            return ([], errors);
        }
    }

    private static string? Refusal(GatewayAnswer answer) => answer switch
    {
        { Refusal: { } refusal } => $"The model refused: {ErrorList.Quote(refusal)}",
        { Content: null or "" } => "The answer is empty.",
        _ => null,
    };

    private static StepInput? ReadStep(JsonNode? item, string path, ErrorList errors)
    {
        if (item is not JsonObject step)
        {
            errors.Add(path, "A step is an object.");
            return null;
        }

        return new StepInput(
            Text(step, "id", path, errors),
            Text(step, "title", path, errors),
            Text(step, "instruction", path, errors),
            Text(step, "kind", path, errors),
            Text(step, "tool", path, errors),
            Arguments(step["arguments"], $"{path}.arguments", errors),
            DependsOn(step["dependsOn"], $"{path}.dependsOn", errors),
            Text(step, "acceptance", path, errors));
    }

    private static string? Text(JsonObject step, string name, string path, ErrorList errors)
    {
        switch (step[name])
        {
            case null:
                return null;
            case JsonValue value when value.TryGetValue<string>(out var text):
                return text;
            default:
                errors.Add($"{path}.{name}", "A string.");
                return null;
        }
    }

    /// <summary>The schema asks for a string holding a JSON object; an object itself means the same.</summary>
    private static JsonNode? Arguments(JsonNode? arguments, string field, ErrorList errors)
    {
        switch (arguments)
        {
            case null:
                return null;
            case JsonObject obj:
                return obj.DeepClone();
            case JsonValue value when value.TryGetValue<string>(out var text):
                if (string.IsNullOrWhiteSpace(text))
                {
                    return null;
                }

                try
                {
                    if (JsonNode.Parse(text, documentOptions: Limits) is JsonObject parsed)
                    {
                        return parsed;
                    }
                }
                catch (JsonException)
                {
                    // Reported below with the field.
                }

                errors.Add(field, "A string holding a JSON object.");
                return null;
            default:
                errors.Add(field, "A string holding a JSON object.");
                return null;
        }
    }

    private static IReadOnlyList<string?>? DependsOn(JsonNode? dependsOn, string field, ErrorList errors)
    {
        if (dependsOn is null)
        {
            return null;
        }

        if (dependsOn is JsonArray array && array.All(d => d is JsonValue v && v.TryGetValue<string>(out _)))
        {
            return [.. array.Select(d => d!.GetValue<string>())];
        }

        errors.Add(field, "An array of step ids.");
        return null;
    }

    /// <summary>Models without strict schemas often wrap JSON in a Markdown code block.</summary>
    private static string Unfenced(string content)
    {
        var text = content.Trim();
        if (!text.StartsWith("```", StringComparison.Ordinal))
        {
            return text;
        }

        var firstLine = text.IndexOf('\n');
        var end = text.LastIndexOf("```", StringComparison.Ordinal);
        return firstLine < 0 || end <= firstLine ? text : text[(firstLine + 1)..end];
    }
}
