using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.Planning.Plans;

/// <summary>
/// References to earlier steps' outputs inside a step's strings: <c>{{steps.&lt;id&gt;.output}}</c> or
/// <c>{{steps.&lt;id&gt;.output.&lt;field&gt;…}}</c>, filled in when the step runs. Other <c>{{…}}</c> text (a
/// template a tool renders itself, say) is left alone; anything starting <c>{{steps</c> must be a well-formed reference.
/// </summary>
public static partial class StepTemplates
{
    /// <summary>The step ids <paramref name="text"/> refers to; a malformed reference yields null.</summary>
    public static IEnumerable<string?> References(string text)
    {
        foreach (Match start in StartPattern().Matches(text))
        {
            var reference = ReferencePattern().Match(text, start.Index);
            yield return reference.Success ? reference.Groups["id"].Value : null;
        }
    }

    public static bool HasReference(string text) => StartPattern().IsMatch(text);

    /// <summary>Every string value in <paramref name="node"/> with its JSON Pointer.</summary>
    public static IEnumerable<(string Pointer, string Value)> Strings(JsonNode? node, string pointer = "")
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    foreach (var found in Strings(value, $"{pointer}/{name.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)}"))
                    {
                        yield return found;
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var found in Strings(array[i], $"{pointer}/{i}"))
                    {
                        yield return found;
                    }
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text):
                yield return (pointer, text);
                break;
        }
    }

    /// <summary>Every property name in <paramref name="node"/>, at any depth.</summary>
    public static IEnumerable<string> PropertyNames(JsonNode? node) => node switch
    {
        JsonObject obj => obj.SelectMany(p => PropertyNames(p.Value).Prepend(p.Key)),
        JsonArray array => array.SelectMany(PropertyNames),
        _ => [],
    };

    [GeneratedRegex(@"\{\{\s*steps(?![A-Za-z0-9_-])")]
    private static partial Regex StartPattern();

    [GeneratedRegex(@"\G\{\{\s*steps\.(?<id>[A-Za-z0-9_-]{1,64})\.output(?:\.[A-Za-z0-9_-]{1,64}){0,16}\s*\}\}")]
    private static partial Regex ReferencePattern();
}
