using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>
/// The simulator's answer to the planning service (a <c>json_schema</c> named <c>platform_plan</c> whose user turn is
/// the planner's JSON document): a plan read off the goal's wording by fixed rules, deterministic, and no reasoning.
/// The goal splits into clauses at commas, ';', '. ', ' and ', ' then '. A clause starting with "then" or naming "the
/// result" depends on the one before; one that refers back ("both", "all", "them", "the results", summarise, combine,
/// compare) on every earlier one; the others run in parallel. A clause about approval ("approve", "confirm with a
/// human") is an approval step; otherwise it calls the offered tool sharing most words with it (a word of the tool's
/// name counts twice; a clause that calculates, computes or converts also matches "calculator" and "arithmetic"), with
/// arguments sampled from the tool's schema and the clause's values; otherwise it is a model step. The calculator is
/// called only with arithmetic the clause holds: an expression, a temperature conversion, or "add N to / subtract N
/// from / multiply or divide by N the result" of the calculator step before, by reference to its value. Re-planning
/// keeps every step but the failed one, which becomes another matching tool or a model step, with its dependents
/// pointed at the new step (a calculation on its result is planned again, since the new step's output is no value).
/// </summary>
public static partial class SimulatorPlanner
{
    public const string SchemaName = "platform_plan";
    private const int DefaultMaxSteps = 20;
    private const string Calculator = "builtin.calculator";

    private static readonly HashSet<string> StopWords =
    [
        "the", "and", "then", "for", "with", "from", "into", "onto", "that", "this", "these", "those", "them", "both", "all", "its", "their",
        "our", "your", "are", "was", "were", "has", "have", "had", "but", "not", "any", "can", "will", "each", "per", "via", "about", "also",
        "result", "results", "please", "some", "what", "when", "where", "which", "who", "how",
    ];

    private static readonly HashSet<string> ArithmeticWords =
        ["convert", "calculate", "compute", "add", "subtract", "multiply", "divide", "sum", "total", "average", "percent", "percentage"];

    private static readonly string[] ArithmeticTopics = ["calculator", "arithmetic", "calculate", "compute"];

    /// <summary>The plan as the schema's JSON, or null when the request is not the planner's.</summary>
    public static string? Plan(ChatRequest request)
    {
        if (request.ResponseFormat.SchemaName != SchemaName || Job(request) is not { } job || Text(job["goal"]) is not { } goal)
        {
            return null;
        }

        var tools = Tools(job["tools"]);
        var steps = job["previousPlan"]?["steps"] is JsonArray previous
            ? Replan(previous, job, tools)
            : FromGoal(goal, tools, Math.Clamp(job["constraints"]?["maxSteps"] is JsonValue max && max.TryGetValue<int>(out var m) ? m : DefaultMaxSteps, 1, 200));
        return new JsonObject { ["steps"] = new JsonArray([.. steps]) }.ToJsonString();
    }

    /// <summary>The latest user turn holding the planner's document; later turns may be the reasons a plan was refused.</summary>
    private static JsonObject? Job(ChatRequest request)
    {
        foreach (var message in request.Messages.Reverse().Where(m => m.Role == "user" && m.Content?.TrimStart().StartsWith('{') == true))
        {
            try
            {
                if (JsonNode.Parse(message.Content!) is JsonObject job && job["goal"] is JsonValue)
                {
                    return job;
                }
            }
            catch (JsonException)
            {
                // Not the planner's document.
            }
        }

        return null;
    }

    private static List<JsonObject> FromGoal(string goal, List<Tool> tools, int maxSteps)
    {
        var clauses = Clauses(goal);
        if (clauses.Count > maxSteps)
        {
            clauses = [.. clauses.Take(maxSteps - 1), clauses[maxSteps - 1] with { Text = string.Join(", ", clauses.Skip(maxSteps - 1).Select(c => c.Text)) }];
        }

        if (clauses.Count == 0)
        {
            clauses = [new Clause(goal.Trim(), false)];
        }

        var steps = new List<JsonObject>();
        var ids = new List<string>();
        foreach (var clause in clauses)
        {
            var dependsOn = RefersBackPattern().IsMatch(clause.Text) ? [.. ids]
                : (clause.Then || ResultPattern().IsMatch(clause.Text)) && ids.Count > 0 ? new List<string> { ids[^1] } : [];
            var step = Step(clause.Text, dependsOn, tools, null, ids, null, steps);
            ids.Add(Text(step["id"])!);
            steps.Add(step);
        }

        return steps;
    }

    private static List<JsonObject> Replan(JsonArray previous, JsonObject job, List<Tool> tools)
    {
        var steps = previous.OfType<JsonObject>().Select(s => (JsonObject)s.DeepClone()).ToList();
        var failedId = Text(job["failed"]?["stepId"]);
        var index = steps.FindIndex(s => Text(s["id"]) == failedId);
        if (failedId is null || index < 0)
        {
            return steps;
        }

        var failed = steps[index];
        var ids = steps.Select(s => Text(s["id"]) ?? "").ToList();
        var dependsOn = (failed["dependsOn"] as JsonArray ?? []).Select(Text).OfType<string>().ToList();
        var newId = Unique($"{failedId}_alt", ids);
        var alternative = Step(Text(failed["title"]) ?? failedId, dependsOn, tools, Text(failed["tool"]), ids, newId, steps);
        var observation = Shorten(Text(job["failed"]?["observation"]) ?? "", 300);
        alternative["instruction"] = Shorten($"Instead of step {failedId}, which failed ({observation}): {Text(alternative["instruction"])}", 4000);
        steps[index] = alternative;

        var completed = (job["completed"] as JsonArray ?? []).Select(c => Text(c?["stepId"])).OfType<string>().ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (completed.Contains(Text(step["id"]) ?? ""))
            {
                continue;
            }

            if (step["dependsOn"] is JsonArray deps && deps.Any(d => Text(d) == failedId))
            {
                step["dependsOn"] = new JsonArray([.. deps.Select(d => (JsonNode?)(Text(d) == failedId ? newId : Text(d)))]);
                if (Text(step["tool"]) == Calculator && Text(alternative["tool"]) != Calculator)
                {
                    steps[i] = Step(Text(step["title"]) ?? "", [.. ((JsonArray)step["dependsOn"]!).Select(Text).OfType<string>()], tools, null, ids, Text(step["id"]), steps);
                    continue;
                }
            }

            if (Text(step["arguments"]) is { } arguments)
            {
                step["arguments"] = Regex.Replace(arguments, $@"(\{{\{{\s*steps\.){Regex.Escape(failedId)}(\.output)", $"${{1}}{newId}$2");
            }
        }

        return steps;
    }

    private static JsonObject Step(string text, List<string> dependsOn, List<Tool> tools, string? excludeTool, List<string> ids, string? id, List<JsonObject> planned)
    {
        var words = Words(text);
        var expression = Expression(text, dependsOn, planned);
        var arithmetic = words.FirstOrDefault(w => ArithmeticWords.Contains(w.Stem)).Word ?? (expression is null ? null : "calculation");
        var excluded = expression is null ? [excludeTool, Calculator] : new[] { excludeTool };
        var (kind, tool, matched) = ApprovalPattern().IsMatch(text)
            ? ("approval", null, null)
            : Best(words, arithmetic, tools, excluded) is ({ } best, var word) ? ("tool", best, word) : ("model", (Tool?)null, (string?)null);
        id ??= Unique(Slug(matched ?? words.FirstOrDefault().Word ?? "step"), ids);
        var title = Shorten(Capitalised(text), 200);
        var arguments = tool is not null
            ? (tool.Parameters is { } schema ? new SchemaSampler(schema, Hints(text, expression)).Sample() as JsonObject : null) ?? []
            : new JsonObject(dependsOn.Select(d => KeyValuePair.Create(d, (JsonNode?)$"{{{{steps.{d}.output}}}}")));
        var (instruction, acceptance) = kind switch
        {
            "tool" => ($"{title}: call {tool!.Name} with the arguments given.", $"{tool.Name} returns a result without an error."),
            "approval" => ($"Ask a human to approve: {text}.", "A human approved."),
            _ => (dependsOn.Count > 0 ? $"{title}, using the outputs of {string.Join(", ", dependsOn)}." : $"{title}.", $"A text answer that does what was asked: {text}."),
        };
        return new JsonObject
        {
            ["id"] = id,
            ["title"] = title,
            ["instruction"] = Shorten(instruction, 4000),
            ["kind"] = kind,
            ["tool"] = tool?.Name,
            ["arguments"] = arguments.ToJsonString(),
            ["dependsOn"] = new JsonArray([.. dependsOn.Select(d => (JsonNode?)d)]),
            ["acceptance"] = Shorten(acceptance, 1000),
        };
    }

    /// <summary>The offered tool sharing most words with the clause (name words count twice), first offered on a tie.</summary>
    private static (Tool? Tool, string? Word) Best(List<(string Word, string Stem)> words, string? arithmetic, List<Tool> tools, string?[] excluded)
    {
        var stems = words.Select(w => w.Stem).Concat(arithmetic is null ? [] : ArithmeticTopics).Distinct().ToList();
        var (best, score) = ((Tool?)null, 0);
        foreach (var tool in tools.Where(t => !excluded.Contains(t.Name)))
        {
            var points = stems.Sum(s => tool.NameWords.Contains(s) ? 2 : tool.DescriptionWords.Contains(s) ? 1 : 0);
            if (points > score)
            {
                (best, score) = (tool, points);
            }
        }

        if (best is null)
        {
            return (null, null);
        }

        var matched = words.FirstOrDefault(w => best.NameWords.Contains(w.Stem) || best.DescriptionWords.Contains(w.Stem)).Word;
        return (best, matched ?? arithmetic);
    }

    private static List<Clause> Clauses(string goal)
    {
        var clauses = new List<Clause>();
        var parts = SeparatorPattern().Split(goal);
        var then = false;
        for (var i = 0; i < parts.Length; i++)
        {
            if (i % 2 == 1)
            {
                then |= parts[i].Trim().Equals("then", StringComparison.OrdinalIgnoreCase);
                continue;
            }

            var text = parts[i].Trim().TrimEnd('.', '!', '?').Trim();
            while (LeadingConjunctionPattern().Match(text) is { Success: true } leading)
            {
                then |= leading.Groups[1].Value.Equals("then", StringComparison.OrdinalIgnoreCase);
                text = text[leading.Length..].TrimStart();
            }

            if (text.Length > 0)
            {
                clauses.Add(new Clause(text, then));
                then = false;
            }
        }

        return clauses;
    }

    /// <summary>
    /// The arithmetic a clause asks for: an expression it holds, a temperature conversion, or an operation on the result
    /// of the one step it depends on when that is the calculator's (whose output is <c>{"value": n}</c>); else none.
    /// </summary>
    private static string? Expression(string text, List<string> dependsOn, List<JsonObject> planned)
    {
        if (ExpressionPattern().Match(text) is { Success: true } expression)
        {
            return expression.Value.Trim();
        }

        if (TemperaturePattern().Match(text) is { Success: true } temperature)
        {
            var value = temperature.Groups["value"].Value;
            var (from, to) = (char.ToUpperInvariant(temperature.Groups["from"].Value[0]), char.ToUpperInvariant(temperature.Groups["to"].Value[0]));
            return from == to ? value : from == 'C' ? $"{value} * 9 / 5 + 32" : $"({value} - 32) * 5 / 9";
        }

        var operation = AddToResultPattern().Match(text) is { Success: true } added ? added : ScaleResultPattern().Match(text);
        if (!operation.Success || dependsOn is not [var previous] || !planned.Any(s => Text(s["id"]) == previous && Text(s["tool"]) == Calculator))
        {
            return null;
        }

        var symbol = operation.Groups["verb"].Value.ToLowerInvariant() switch { "add" => "+", "subtract" => "-", "multiply" => "*", _ => "/" };
        return $"{{{{steps.{previous}.output.value}}}} {symbol} {operation.Groups["operand"].Value}";
    }

    /// <summary>Values the clause holds, for string arguments in order: its arithmetic, quoted text, proper names, the clause.</summary>
    private static List<string> Hints(string text, string? expression)
    {
        var hints = new List<string>();
        if (expression is not null)
        {
            hints.Add(expression);
        }

        hints.AddRange(QuotedPattern().Matches(text).Select(m => m.Groups[1].Value));
        var firstWord = text.Split(' ', 2)[0];
        hints.AddRange(ProperNamePattern().Matches(text).Where(m => m.Index > 0 || m.Value != firstWord).Select(m => m.Value));
        hints.Add(text);
        return hints;
    }

    private static List<Tool> Tools(JsonNode? offered) =>
        [.. (offered as JsonArray ?? []).OfType<JsonObject>().Where(t => Text(t["name"]) is not null).Select(t =>
        {
            var name = Text(t["name"])!;
            var segments = name.Split('.');
            var nameWords = Words(string.Join(' ', segments.Length > 1 ? segments[1..] : segments).Replace('_', ' ').Replace('-', ' ')).Select(w => w.Stem);
            JsonElement? parameters = t["parameters"] is JsonObject schema ? JsonSerializer.SerializeToElement(schema) : null;
            return new Tool(name, parameters, [.. nameWords], [.. Words(Text(t["description"]) ?? "").Select(w => w.Stem)]);
        })];

    /// <summary>A clause's meaningful words in order, each with a crude stem (plural "s" dropped) for matching.</summary>
    private static List<(string Word, string Stem)> Words(string text) =>
        [.. WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value)
            .Where(w => w.Length >= 3 && !StopWords.Contains(w) && !w.All(char.IsAsciiDigit))
            .Select(w => (w, w.Length > 3 && w.EndsWith('s') && !w.EndsWith("ss", StringComparison.Ordinal) ? w[..^1] : w))];

    private static string Unique(string id, List<string> taken)
    {
        var unique = id;
        for (var n = 2; taken.Contains(unique); n++)
        {
            unique = $"{id}_{n.ToString(CultureInfo.InvariantCulture)}";
        }

        return unique;
    }

    private static string Slug(string word) => word.Length > 40 ? word[..40] : word;

    private static string Capitalised(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";

    private static string? Text(JsonNode? node) => node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    private sealed record Clause(string Text, bool Then);

    private sealed record Tool(string Name, JsonElement? Parameters, HashSet<string> NameWords, HashSet<string> DescriptionWords);

    [GeneratedRegex(@"(,|;|\.\s+|\s+and\s+|\s+then\s+)", RegexOptions.IgnoreCase)]
    private static partial Regex SeparatorPattern();

    [GeneratedRegex(@"^(and|then|also)\b\s*", RegexOptions.IgnoreCase)]
    private static partial Regex LeadingConjunctionPattern();

    [GeneratedRegex(@"\b(both|all|them|the results|summari[sz]e\w*|combine\w*|compare\w*)\b", RegexOptions.IgnoreCase)]
    private static partial Regex RefersBackPattern();

    [GeneratedRegex(@"\b(?:the|that|this)\s+result\b", RegexOptions.IgnoreCase)]
    private static partial Regex ResultPattern();

    [GeneratedRegex(@"\b(?<verb>add|subtract)\s+(?<operand>-?\d+(?:\.\d+)?)\s+(?:to|from)\s+(?:the|that|this)\s+result\b", RegexOptions.IgnoreCase)]
    private static partial Regex AddToResultPattern();

    [GeneratedRegex(@"\b(?<verb>multiply|divide)\s+(?:the|that|this)\s+result\s+by\s+(?<operand>-?\d+(?:\.\d+)?)", RegexOptions.IgnoreCase)]
    private static partial Regex ScaleResultPattern();

    [GeneratedRegex(@"\b(approve[sd]?|approval)\b|confirm with a human", RegexOptions.IgnoreCase)]
    private static partial Regex ApprovalPattern();

    [GeneratedRegex(@"-?\d+(?:\.\d+)?(?:\s*[-+*/^%]\s*-?\d+(?:\.\d+)?)+")]
    private static partial Regex ExpressionPattern();

    [GeneratedRegex(@"(?<value>-?\d+(?:\.\d+)?)\s*°?\s*(?<from>[CF])\s+(?:to|in|into)\s+°?\s*(?<to>[CF])\b", RegexOptions.IgnoreCase)]
    private static partial Regex TemperaturePattern();

    [GeneratedRegex("\"([^\"]{1,200})\"")]
    private static partial Regex QuotedPattern();

    [GeneratedRegex(@"\b[A-Z][A-Za-z]+(?:(?:\s+|/)[A-Z][A-Za-z]+)*")]
    private static partial Regex ProperNamePattern();

    [GeneratedRegex("[a-z0-9]+")]
    private static partial Regex WordPattern();
}
