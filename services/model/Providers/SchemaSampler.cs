using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Model.Providers;

/// <summary>
/// Builds a value that satisfies a JSON Schema: the simulator's answer to <c>json_schema</c> response formats and its
/// tool-call arguments. Strings are taken, in order, from <paramref name="hints"/> when there are any, so answers
/// echo the conversation; everything else is the smallest valid value.
/// </summary>
public sealed class SchemaSampler(JsonElement root, IReadOnlyList<string> hints)
{
    private const int MaxDepth = 12;
    private int _nextHint;

    public JsonNode? Sample() => Sample(root, "value", 0);

    private JsonNode? Sample(JsonElement schema, string name, int depth)
    {
        if (schema.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            return null;
        }

        if (schema.TryGetProperty("$ref", out var reference) && Resolve(reference.GetString()) is { } target)
        {
            return Sample(target, name, depth + 1);
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return JsonNode.Parse(constant.GetRawText());
        }

        if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
        {
            return JsonNode.Parse(values[0].GetRawText());
        }

        foreach (var combinator in new[] { "anyOf", "oneOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out var options) && options.ValueKind == JsonValueKind.Array && options.GetArrayLength() > 0)
            {
                return Sample(options.EnumerateArray().FirstOrDefault(o => !IsNullSchema(o), options[0]), name, depth + 1);
            }
        }

        return TypeOf(schema) switch
        {
            "object" => SampleObject(schema, depth),
            "array" => SampleArray(schema, name, depth),
            "string" => SampleString(schema, name),
            "integer" => JsonValue.Create((long)Math.Ceiling(Bound(schema, 0))),
            "number" => JsonValue.Create(Bound(schema, 0)),
            "boolean" => JsonValue.Create(false),
            _ => null,
        };
    }

    private JsonObject SampleObject(JsonElement schema, int depth)
    {
        var result = new JsonObject();
        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                result[property.Name] = Sample(property.Value, property.Name, depth + 1);
            }
        }

        return result;
    }

    private JsonArray SampleArray(JsonElement schema, string name, int depth)
    {
        var count = schema.TryGetProperty("minItems", out var min) && min.TryGetInt32(out var minItems) ? Math.Max(minItems, 1) : 1;
        if (schema.TryGetProperty("maxItems", out var max) && max.TryGetInt32(out var maxItems))
        {
            count = Math.Min(count, maxItems);
        }

        var array = new JsonArray();
        if (!schema.TryGetProperty("items", out var items) || items.ValueKind != JsonValueKind.Object)
        {
            return array;
        }

        for (var i = 0; i < count; i++)
        {
            array.Add(Sample(items, name, depth + 1));
        }

        return array;
    }

    private JsonValue SampleString(JsonElement schema, string name)
    {
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        var text = format switch
        {
            "date-time" => "2025-01-01T00:00:00Z",
            "date" => "2025-01-01",
            "time" => "00:00:00",
            "email" => "user@example.com",
            "uri" or "url" => "https://example.com/",
            "uuid" => "00000000-0000-4000-8000-000000000000",
            _ => _nextHint < hints.Count ? hints[_nextHint++] : name,
        };
        if (schema.TryGetProperty("maxLength", out var maxLength) && maxLength.TryGetInt32(out var max) && text.Length > max)
        {
            text = text[..max];
        }

        if (schema.TryGetProperty("minLength", out var minLength) && minLength.TryGetInt32(out var min) && text.Length < min)
        {
            text = text.PadRight(min, '.');
        }

        return JsonValue.Create(text);
    }

    private static double Bound(JsonElement schema, double fallback)
    {
        if (schema.TryGetProperty("minimum", out var minimum) && minimum.TryGetDouble(out var min))
        {
            return min;
        }

        if (schema.TryGetProperty("exclusiveMinimum", out var exclusive) && exclusive.TryGetDouble(out var exclusiveMin))
        {
            return exclusiveMin + 1;
        }

        return schema.TryGetProperty("maximum", out var maximum) && maximum.TryGetDouble(out var max) && max < fallback ? max : fallback;
    }

    private static string? TypeOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? "object" : schema.TryGetProperty("items", out _) ? "array" : null;
        }

        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t != "null")
            : type.GetString();
    }

    private static bool IsNullSchema(JsonElement schema) => schema.ValueKind == JsonValueKind.Object
        && schema.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "null";

    private JsonElement? Resolve(string? reference)
    {
        if (reference is null || !reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }

        var current = root;
        foreach (var segment in reference[2..].Split('/'))
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment.Replace("~1", "/").Replace("~0", "~"), out current))
            {
                return null;
            }
        }

        return current;
    }
}
