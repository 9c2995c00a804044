using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Planning.Planner;
using Platform.ServiceDefaults.Http;

namespace Platform.Planning.Plans;

/// <summary>
/// Reads one step as written, field by field, recording every problem under the field's name: ids, lengths, text that
/// can be stored and shown safely, the kind, the tool, the shape of the arguments and dependencies.
/// </summary>
public static partial class StepReader
{
    public const int MaxTitle = 200;
    public const int MaxInstruction = 4000;
    public const int MaxAcceptance = 1000;
    public const int MaxArgumentsChars = 16_000;
    public static readonly string[] Kinds = ["model", "tool", "approval"];

    public static PlanStep Read(StepInput? input, string path, int maxSteps, IReadOnlyDictionary<string, ToolInfo> tools, ErrorList errors)
    {
        if (input is null)
        {
            errors.Add(path, "A step is an object.");
            return new PlanStep("", "", "", "", null, [], [], null, null);
        }

        var step = Normalize(input);
        if (!IdPattern().IsMatch(step.Id))
        {
            errors.Add($"{path}.id", $"A step id is 1 to 64 letters, digits, '-' or '_' (got '{ErrorList.Quote(input.Id)}').");
        }

        CheckText(errors, $"{path}.title", step.Title, MaxTitle, multiline: false);
        if (step.Title.Length == 0)
        {
            errors.Add($"{path}.title", "A step needs a title.");
        }

        CheckText(errors, $"{path}.instruction", step.Instruction, MaxInstruction, multiline: true);
        CheckText(errors, $"{path}.acceptance", step.Acceptance, MaxAcceptance, multiline: true);
        if (!Kinds.Contains(step.Kind))
        {
            errors.Add($"{path}.kind", $"The kind is one of: {string.Join(", ", Kinds)} (got '{ErrorList.Quote(input.Kind)}').");
        }

        if (step.Kind == "tool" && step.Tool is null)
        {
            errors.Add($"{path}.tool", "A tool step names the tool it calls.");
        }
        else if (step.Kind == "tool" && !tools.ContainsKey(step.Tool!))
        {
            errors.Add($"{path}.tool", $"'{ErrorList.Quote(step.Tool)}' is not a tool this plan may use: a tool step calls one of the tenant's tools offered to the plan.");
        }
        else if (step.Kind != "tool" && step.Tool is not null && Kinds.Contains(step.Kind))
        {
            errors.Add($"{path}.tool", $"Only tool steps name a tool; this is a {step.Kind} step.");
        }

        CheckArguments(input.Arguments, $"{path}.arguments", errors);
        CheckDependsOn(input.DependsOn, $"{path}.dependsOn", maxSteps, errors);
        return step;
    }

    /// <summary>The step as written, tidied: text trimmed, the instruction defaulting to the title, empty values absent.</summary>
    public static PlanStep Normalize(StepInput input) => new(
        input.Id ?? "",
        input.Title?.Trim() ?? "",
        string.IsNullOrWhiteSpace(input.Instruction) ? input.Title?.Trim() ?? "" : input.Instruction.Trim(),
        input.Kind ?? "",
        string.IsNullOrEmpty(input.Tool) ? null : input.Tool,
        input.Arguments is JsonObject arguments && arguments.ToJsonString().Length <= MaxArgumentsChars ? (JsonObject)arguments.DeepClone() : [],
        [.. (input.DependsOn ?? []).OfType<string>().Distinct(StringComparer.Ordinal)],
        string.IsNullOrWhiteSpace(input.Acceptance) ? null : input.Acceptance.Trim(),
        null);

    /// <summary>
    /// Why <paramref name="text"/> cannot be kept as step text: what PostgreSQL and UTF-8 cannot hold, control
    /// characters, and invisible formatting (bidirectional overrides, zero-width spaces) that can make a reviewer read
    /// something other than what runs.
    /// </summary>
    public static string? Unclean(string text, bool multiline)
    {
        if (StorableText.Problem(text) is { } problem)
        {
            return problem;
        }

        foreach (var c in text)
        {
            if (char.IsControl(c) && !(multiline && c is '\n' or '\r' or '\t'))
            {
                return $"contains the control character U+{(int)c:X4}";
            }

            if (IsInvisibleFormatting(c))
            {
                return $"contains the invisible formatting character U+{(int)c:X4}, which can hide text from whoever reviews the plan";
            }
        }

        return null;
    }

    private static bool IsInvisibleFormatting(char c) => c is '\u200B' or '\u200E' or '\u200F' or '\u2060' or '\uFEFF'
        or (>= '\u202A' and <= '\u202E') or (>= '\u2066' and <= '\u2069');

    private static void CheckText(ErrorList errors, string field, string? text, int max, bool multiline)
    {
        if (text is null)
        {
            return;
        }

        if (text.Length > max)
        {
            errors.Add(field, $"At most {max} characters (got {text.Length}).");
        }
        else if (Unclean(text, multiline) is { } problem)
        {
            errors.Add(field, $"The text {problem}.");
        }
    }

    private static void CheckArguments(JsonNode? arguments, string field, ErrorList errors)
    {
        if (arguments is null)
        {
            return;
        }

        if (arguments is not JsonObject obj)
        {
            errors.Add(field, "The arguments are a JSON object.");
            return;
        }

        var length = obj.ToJsonString().Length;
        if (length > MaxArgumentsChars)
        {
            errors.Add(field, $"At most {MaxArgumentsChars} characters of JSON (got {length}).");
            return;
        }

        foreach (var text in StepTemplates.PropertyNames(obj).Concat(StepTemplates.Strings(obj).Select(s => s.Value)))
        {
            if ((StorableText.Problem(text) ?? (text.Any(IsInvisibleFormatting) ? "contains invisible formatting characters" : null)) is { } problem)
            {
                errors.Add(field, $"A name or value {problem}.");
                return;
            }
        }
    }

    private static void CheckDependsOn(IReadOnlyList<string?>? dependsOn, string field, int maxSteps, ErrorList errors)
    {
        if (dependsOn is null)
        {
            return;
        }

        if (dependsOn.Count > maxSteps)
        {
            errors.Add(field, $"At most {maxSteps} dependencies (got {dependsOn.Count}).");
            return;
        }

        foreach (var dependency in dependsOn.Where(d => d is null || !IdPattern().IsMatch(d)))
        {
            errors.Add(field, $"'{ErrorList.Quote(dependency)}' is not a step id.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex IdPattern();
}
