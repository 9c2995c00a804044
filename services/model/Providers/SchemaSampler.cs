using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Model.Providers;

/// <summary>
/// Builds a value that satisfies a JSON Schema: the simulator's answer to <c>json_schema</c> response formats and its
/// tool-call arguments. Strings are taken, in order, from <paramref name="hints"/> when there are any, so answers
/// echo the conversation; everything else is the smallest valid value. What it builds is bounded (items, string
/// length, properties, values and characters in all): a schema whose minimums pass those bounds cannot be answered,
/// and says so with a <see cref="SchemaTooLargeException"/>.
/// </summary>
public sealed class SchemaSampler(JsonElement root, IReadOnlyList<string> hints)
{
    public const int MaxItems = 64;
    public const int MaxStringLength = 4096;
    public const int MaxProperties = 64;
    private const int MaxValues = 10_000;
    private const int MaxCharacters = 256 * 1024;
    private const int MaxDepth = 12;

    // Past this depth or this many values, optional properties are left out, so that recursive or wide schemas stay
    // small and valid: a required property past MaxDepth could only be null.
    private const int OptionalDepth = 6;
    private const int OptionalValues = 1_000;
    private int _nextHint;
    private int _values;
    private int _characters;

    public JsonNode? Sample() => Sample(root, "value", 0);

    private JsonNode? Sample(JsonElement schema, string name, int depth)
    {
        if (schema.ValueKind != JsonValueKind.Object || depth > MaxDepth)
        {
            return null;
        }

        if (++_values > MaxValues)
        {
            throw new SchemaTooLargeException($"a value of this schema would have more than {MaxValues} parts");
        }

        if (Text(schema, "$ref") is { } reference && Resolve(reference) is { } target)
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
            "integer" => Integer(Math.Ceiling(Bound(schema))),
            "number" => JsonValue.Create(Bound(schema)),
            "boolean" => JsonValue.Create(false),
            _ => null,
        };
    }

    private JsonObject SampleObject(JsonElement schema, int depth)
    {
        var result = new JsonObject();
        var required = schema.TryGetProperty("required", out var names) && names.ValueKind == JsonValueKind.Array
            ? names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!).ToHashSet(StringComparer.Ordinal)
            : [];
        var minProperties = Minimum(schema, "minProperties", MaxProperties);
        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                if (required.Contains(property.Name) || result.Count < minProperties || (depth < OptionalDepth && _values < OptionalValues))
                {
                    result[property.Name] = Sample(property.Value, property.Name, depth + 1);
                }
            }
        }

        var additional = schema.TryGetProperty("additionalProperties", out var extra) ? extra : default;
        for (var i = 1; result.Count < minProperties && additional.ValueKind != JsonValueKind.False; i++)
        {
            if (!result.ContainsKey($"property{i}"))
            {
                result[$"property{i}"] = Sample(additional, $"property{i}", depth + 1);
            }
        }

        return result;
    }

    private JsonArray SampleArray(JsonElement schema, string name, int depth)
    {
        var count = Math.Max(Minimum(schema, "minItems", MaxItems), 1);
        if (Count(schema, "maxItems") is { } maxItems)
        {
            count = (int)Math.Min(count, maxItems);
        }

        var items = schema.TryGetProperty("items", out var itemSchema) && itemSchema.ValueKind == JsonValueKind.Object ? itemSchema : default;
        if (items.ValueKind == JsonValueKind.Undefined && Minimum(schema, "minItems", MaxItems) == 0)
        {
            return [];
        }

        var array = new JsonArray();
        for (var i = 0; i < count; i++)
        {
            array.Add(Sample(items, name, depth + 1));
        }

        return array;
    }

    private JsonValue SampleString(JsonElement schema, string name)
    {
        var text = Text(schema, "format") switch
        {
            "date-time" => "2025-01-01T00:00:00Z",
            "date" => "2025-01-01",
            "time" => "00:00:00",
            "email" => "user@example.com",
            "uri" or "url" => "https://example.com/",
            "uuid" => "00000000-0000-4000-8000-000000000000",
            _ => _nextHint < hints.Count ? hints[_nextHint++] : name,
        };
        if (Count(schema, "maxLength") is { } max && text.Length > max)
        {
            text = text[..(int)max];
        }

        var min = Minimum(schema, "minLength", MaxStringLength);
        if (text.Length < min)
        {
            text = text.PadRight(min, '.');
        }

        if ((_characters += text.Length) > MaxCharacters)
        {
            throw new SchemaTooLargeException($"a value of this schema would hold more than {MaxCharacters} characters of text");
        }

        return JsonValue.Create(text);
    }

    /// <summary>The schema's minimum for <paramref name="keyword"/>, refused past <paramref name="bound"/>.</summary>
    private static int Minimum(JsonElement schema, string keyword, int bound) => Count(schema, keyword) switch
    {
        null => 0,
        { } n when n > bound => throw new SchemaTooLargeException($"'{keyword}' {n} is more than the {bound} the simulator generates"),
        { } n => (int)n,
    };

    private static double? Count(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var n) && n >= 0
            ? Math.Floor(n)
            : null;

    private static double Bound(JsonElement schema)
    {
        if (Number(schema, "minimum") is { } min)
        {
            return min;
        }

        if (Number(schema, "exclusiveMinimum") is { } exclusiveMin)
        {
            return exclusiveMin + 1;
        }

        return Number(schema, "maximum") is { } max && max < 0 ? max : 0;
    }

    /// <summary>Beyond 2^53 a double no longer holds every integer: such bounds are written as they are.</summary>
    private static JsonValue Integer(double value) =>
        Math.Abs(value) < 9_007_199_254_740_992d ? JsonValue.Create((long)value) : JsonValue.Create(value);

    private static double? Number(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var n) && double.IsFinite(n) ? n : null;

    private static string? Text(JsonElement schema, string keyword) =>
        schema.TryGetProperty(keyword, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string? TypeOf(JsonElement schema)
    {
        if (!schema.TryGetProperty("type", out var type))
        {
            return schema.TryGetProperty("properties", out _) ? "object" : schema.TryGetProperty("items", out _) ? "array" : null;
        }

        return type.ValueKind switch
        {
            JsonValueKind.Array => type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()).FirstOrDefault(t => t != "null"),
            JsonValueKind.String => type.GetString(),
            _ => null,
        };
    }

    private static bool IsNullSchema(JsonElement schema) => schema.ValueKind == JsonValueKind.Object && Text(schema, "type") == "null";

    private JsonElement? Resolve(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal) && reference != "#")
        {
            return null;
        }

        var current = root;
        foreach (var segment in reference.Length > 1 ? reference[2..].Split('/') : [])
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(segment.Replace("~1", "/").Replace("~0", "~"), out current))
            {
                return null;
            }
        }

        return current;
    }
}

/// <summary>The schema asks for more than the simulator generates: the request cannot be answered as it is.</summary>
public sealed class SchemaTooLargeException(string message) : Exception(message);
