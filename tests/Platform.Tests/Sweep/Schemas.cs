using System.Globalization;
using System.Text.Json.Nodes;

namespace Platform.Tests.Sweep;

public enum SchemaKind
{
    Any,
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
}

/// <summary>Just enough of OpenAPI 3.1's JSON Schema to know each value's type and to build a valid one.</summary>
public static class Schemas
{
    /// <summary>Follows <c>$ref</c> within the document and picks the non-null alternative of a nullable <c>oneOf</c>.</summary>
    public static JsonNode? Resolve(JsonObject document, JsonNode? schema)
    {
        for (var hops = 0; hops < 16 && schema is JsonObject { } node; hops++)
        {
            if (node["$ref"] is JsonValue reference)
            {
                schema = reference.GetValue<string>().TrimStart('#').Split('/', StringSplitOptions.RemoveEmptyEntries)
                    .Aggregate((JsonNode?)document, (current, segment) => current?[segment.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)]);
            }
            else if ((node["oneOf"] ?? node["anyOf"]) is JsonArray alternatives)
            {
                schema = alternatives.FirstOrDefault(a => (string?)Resolve(document, a)?["type"] != "null");
            }
            else
            {
                return node;
            }
        }

        return schema;
    }

    public static SchemaKind Kind(JsonObject document, JsonNode? schema)
    {
        if (Resolve(document, schema) is not JsonObject resolved)
        {
            return SchemaKind.Any;
        }

        List<string?> types = resolved["type"] switch
        {
            JsonArray many => [.. many.Select(t => (string?)t)],
            JsonValue one => [(string?)one],
            _ => [],
        };
        return types.Contains("object") || (types.Count == 0 && resolved["properties"] is not null) ? SchemaKind.Object
            : types.Contains("array") ? SchemaKind.Array
            : types.Contains("integer") ? SchemaKind.Integer
            : types.Contains("number") ? SchemaKind.Number
            : types.Contains("boolean") ? SchemaKind.Boolean
            : types.Contains("string") ? SchemaKind.String
            : SchemaKind.Any;
    }

    /// <summary>A string's format; <c>duration</c> for .NET's TimeSpan, which the document gives as a pattern only.</summary>
    public static string? Format(JsonObject document, JsonNode? schema)
    {
        var resolved = Resolve(document, schema) as JsonObject;
        return (string?)resolved?["pattern"] is { } pattern && pattern.Contains(@"\d{2}:\d{2}:\d{2}", StringComparison.Ordinal)
            ? "duration"
            : (string?)resolved?["format"];
    }

    /// <summary>The schema of property <paramref name="name"/>, declared or a map's value schema.</summary>
    public static JsonNode? Property(JsonObject document, JsonNode? schema, string name) =>
        Resolve(document, schema) is JsonObject resolved
            ? resolved["properties"]?[name] ?? (resolved["additionalProperties"] as JsonObject)
            : null;

    public static JsonNode? Items(JsonObject document, JsonNode? schema) => (Resolve(document, schema) as JsonObject)?["items"];

    /// <summary>A valid-looking value for <paramref name="schema"/>, every declared property present.</summary>
    public static JsonNode? Example(JsonObject document, JsonNode? schema, int depth = 0)
    {
        var resolved = Resolve(document, schema) as JsonObject;
        switch (Kind(document, resolved))
        {
            case SchemaKind.Object when depth < 8:
                var value = new JsonObject();
                foreach (var (name, property) in resolved!["properties"] as JsonObject ?? [])
                {
                    value[name] = Example(document, property, depth + 1);
                }

                return value;
            case SchemaKind.Array when depth < 8:
                return new JsonArray(Example(document, resolved!["items"], depth + 1));
            case SchemaKind.Integer or SchemaKind.Number:
                return 1;
            case SchemaKind.Boolean:
                return false;
            case SchemaKind.String:
                return Format(document, resolved) switch
                {
                    "date-time" => DateTimeOffset.UtcNow.AddDays(1).ToString("O", CultureInfo.InvariantCulture),
                    "date" => DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                    "uuid" => Guid.NewGuid().ToString(),
                    "duration" => "00:00:30",
                    _ => "sweep",
                };
            default:
                return new JsonObject();
        }
    }
}
