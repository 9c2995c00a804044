using System.Text.Json;
using System.Text.RegularExpressions;

namespace Platform.ServiceDefaults.Json;

/// <summary>
/// Keywords NJsonSchema accepts when it compiles a schema but fails on when it validates, or would fetch: a remote
/// <c>$ref</c>, a <c>pattern</c> that is no regular expression, a <c>multipleOf</c> of zero. Found by their JSON
/// pointer, before compiling.
/// </summary>
internal static class SchemaKeywords
{
    private const int MaxPatternLength = 2000;

    public static string? Problem(JsonElement node, string at = "")
    {
        if (node.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in node.EnumerateArray())
            {
                if (Problem(item, $"{at}/{index++}") is { } problem)
                {
                    return problem;
                }
            }
        }
        else if (node.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in node.EnumerateObject())
            {
                var path = $"{at}/{property.Name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)}";
                if ((Keyword(property, path) ?? Problem(property.Value, path)) is { } problem)
                {
                    return problem;
                }
            }
        }

        return null;
    }

    private static string? Keyword(JsonProperty property, string at) => (property.Name, property.Value.ValueKind) switch
    {
        ("$ref", JsonValueKind.String) when !SchemaCheck.IsLocalReference(property.Value.GetString()!) =>
            $"'{at}' is '{Shorten(property.Value.GetString()!)}': only references within the schema ('#/…') are allowed, remote and file references are never fetched",
        ("pattern", JsonValueKind.String) => PatternProblem(property.Value.GetString()!, at),
        ("patternProperties", JsonValueKind.Object) => property.Value.EnumerateObject().Select(p => PatternProblem(p.Name, $"{at}/{p.Name}")).FirstOrDefault(p => p is not null),
        ("multipleOf", JsonValueKind.Number) when !(property.Value.TryGetDouble(out var divisor) && divisor > 0) => $"'{at}' must be greater than 0",
        _ => null,
    };

    private static string? PatternProblem(string pattern, string at)
    {
        if (pattern.Length > MaxPatternLength)
        {
            return $"'{at}' is longer than {MaxPatternLength} characters";
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
            return null;
        }
        catch (ArgumentException e)
        {
            return $"'{at}' is not a valid regular expression: {e.Message}";
        }
    }

    private static string Shorten(string text) => text.Length > 200 ? text[..200] + "…" : text;
}
