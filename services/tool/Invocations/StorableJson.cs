using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Json;

namespace Platform.Tool.Invocations;

/// <summary>
/// JSON that PostgreSQL's jsonb holds and every reader of it can read: no NUL or lone surrogate in any string or name,
/// and numbers a double holds (jsonb's numeric overflows not far beyond, at 1e131072, and underflows at 1e-16384).
/// Arguments breaking this are refused before they are stored; results and errors, which come from outside, are
/// cleaned instead, such a number kept as its text.
/// </summary>
public static class StorableJson
{
    /// <summary>Where and why the first value in <paramref name="element"/> cannot be stored, or null.</summary>
    public static SchemaViolation? Problem(JsonElement element, string at = "")
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    var name = Read(() => property.Name);
                    var path = $"{at}/{(name ?? "\uFFFD").Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal)}";
                    if ((TextProblem(name, path) ?? Problem(property.Value, path)) is { } problem)
                    {
                        return problem;
                    }
                }

                return null;
            case JsonValueKind.Array:
                var index = 0;
                return element.EnumerateArray().Select(item => Problem(item, $"{at}/{index++}")).FirstOrDefault(p => p is not null);
            case JsonValueKind.String:
                return TextProblem(Read(() => element.GetString()!), at);
            case JsonValueKind.Number when !IsStorableNumber(element.GetRawText()):
                return new SchemaViolation(at, "storable", $"The number {Shorten(element.GetRawText())} is beyond the range that can be stored (a double's).");
            default:
                return null;
        }
    }

    /// <summary>Text with each NUL and lone surrogate replaced by U+FFFD.</summary>
    public static string Text(string text)
    {
        if (StorableText.Problem(text) is null)
        {
            return text;
        }

        var cleaned = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cleaned.Append(text[i]).Append(text[++i]);
            }
            else
            {
                cleaned.Append(text[i] == '\0' || char.IsSurrogate(text[i]) ? '\uFFFD' : text[i]);
            }
        }

        return cleaned.ToString();
    }

    /// <summary>A copy whose strings and names are <see cref="Text"/>, and whose numbers beyond a double are strings.</summary>
    public static JsonNode? Clean(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    copy[Text(name)] = Clean(value);
                }

                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(Clean).ToArray());
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return JsonValue.Create(Text(value.GetValue<string>()));
            case JsonValue value when value.GetValueKind() == JsonValueKind.Number && !IsStorableNumber(value.ToJsonString()):
                return JsonValue.Create(value.ToJsonString());
            default:
                return node?.DeepClone();
        }
    }

    private static SchemaViolation? TextProblem(string? text, string at) =>
        (text is null ? "contains a lone surrogate, which is not valid Unicode text" : StorableText.Problem(text)) is { } problem
            ? new SchemaViolation(at, "storable", $"The text {problem}.")
            : null;

    /// <summary>The text, or null when it holds an escaped lone surrogate, which System.Text.Json refuses to decode.</summary>
    private static string? Read(Func<string> text)
    {
        try
        {
            return text();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Finite as a double, and not a non-zero number so small that it reads as zero.</summary>
    private static bool IsStorableNumber(string raw) =>
        double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
        && (value != 0 || !raw.TakeWhile(c => c is not ('e' or 'E')).Any(c => c is >= '1' and <= '9'));

    private static string Shorten(string text) => text.Length > 40 ? text[..40] + "…" : text;
}
