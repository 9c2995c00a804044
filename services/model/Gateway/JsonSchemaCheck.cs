using System.Text.Json;
using Platform.ServiceDefaults.Json;

namespace Platform.Model.Gateway;

/// <summary>
/// Whether a JSON Schema a client sends (a <c>json_schema</c> response format, a tool's parameters) is well formed:
/// each keyword the gateway or an upstream reads has the type the specification gives it. A malformed schema is the
/// client's mistake, answered with a 400 naming where it is, before any upstream sees it.
/// </summary>
public static class JsonSchemaCheck
{
    private static readonly HashSet<string> Types = ["object", "array", "string", "integer", "number", "boolean", "null"];
    private static readonly string[] SchemaKeywords =
        ["additionalProperties", "items", "additionalItems", "contains", "propertyNames", "not", "if", "then", "else", "unevaluatedItems", "unevaluatedProperties"];
    private static readonly string[] SchemaMapKeywords = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
    private static readonly string[] SchemaListKeywords = ["allOf", "anyOf", "oneOf", "prefixItems"];
    private static readonly string[] CountKeywords = ["minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties", "minContains", "maxContains"];
    private static readonly string[] NumberKeywords = ["minimum", "maximum", "multipleOf"];
    private static readonly string[] StringKeywords = ["$ref", "pattern", "format", "$id", "$schema"];

    /// <summary>Where the schema at <paramref name="path"/> is malformed and why, or null when it is well formed.</summary>
    public static (string Path, string Problem)? Problem(JsonElement schema, string path)
    {
        if (schema.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return null;
        }

        if (schema.ValueKind != JsonValueKind.Object)
        {
            return (path, "a schema is an object");
        }

        foreach (var property in schema.EnumerateObject())
        {
            if (Keyword(property.Name, property.Value, $"{path}.{property.Name}") is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static (string Path, string Problem)? Keyword(string name, JsonElement value, string path)
    {
        if (name == "type")
        {
            var valid = value.ValueKind == JsonValueKind.String ? Types.Contains(value.GetString()!)
                : value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0
                    && value.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String && Types.Contains(t.GetString()!));
            return valid ? null : (path, $"'type' is one of {string.Join(", ", Types)}, or an array of them");
        }

        if (SchemaKeywords.Contains(name))
        {
            return name == "items" && value.ValueKind == JsonValueKind.Array ? List(value, path) : Problem(value, path);
        }

        if (SchemaMapKeywords.Contains(name))
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                return (path, $"'{name}' is an object of schemas");
            }

            return value.EnumerateObject().Select(p => Problem(p.Value, $"{path}.{p.Name}")).FirstOrDefault(p => p is not null);
        }

        if (SchemaListKeywords.Contains(name))
        {
            return value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 ? List(value, path) : (path, $"'{name}' is a non-empty array of schemas");
        }

        if (CountKeywords.Contains(name))
        {
            return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var count) && count >= 0 && Math.Floor(count) == count && double.IsFinite(count)
                ? null
                : (path, $"'{name}' is a non-negative integer");
        }

        if (NumberKeywords.Contains(name))
        {
            return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) && (name != "multipleOf" || number > 0)
                ? null
                : (path, name == "multipleOf" ? "'multipleOf' is a number greater than 0" : $"'{name}' is a number");
        }

        if (name is "exclusiveMinimum" or "exclusiveMaximum")
        {
            // A number since draft 6, a boolean before it.
            return value.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False ? null : (path, $"'{name}' is a number");
        }

        if (name == "$ref" && value.ValueKind == JsonValueKind.String && !SchemaCheck.IsLocalReference(value.GetString()!))
        {
            // Every service refuses what a schema would fetch; an upstream or the simulator is not to be asked either.
            return (path, "'$ref' refers within the schema ('#/…'); remote and file references are never resolved");
        }

        if (StringKeywords.Contains(name))
        {
            return value.ValueKind == JsonValueKind.String ? null : (path, $"'{name}' is a string");
        }

        return name switch
        {
            "required" when value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(r => r.ValueKind != JsonValueKind.String) =>
                (path, "'required' is an array of property names"),
            "enum" when value.ValueKind != JsonValueKind.Array => (path, "'enum' is an array"),
            _ => null,
        };
    }

    private static (string Path, string Problem)? List(JsonElement schemas, string path) =>
        schemas.EnumerateArray().Select((s, i) => Problem(s, $"{path}[{i}]")).FirstOrDefault(p => p is not null);
}
