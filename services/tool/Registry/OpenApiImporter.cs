using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.Tool.Registry;

/// <summary>
/// Turns an OpenAPI 3 document into HTTP tools, one per operation: path and query parameters and a JSON request body
/// become one arguments schema (local <c>$ref</c>s inlined), GET reads, PUT and DELETE are idempotent, POST and PATCH
/// have side effects.
/// </summary>
public static partial class OpenApiImporter
{
    private const int MaxRefDepth = 16;
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    public static (IReadOnlyList<ToolDefinition> Tools, IReadOnlyList<string> Problems) Import(JsonObject document, string prefix, string? baseUrl)
    {
        var problems = new List<string>();
        if (document["openapi"]?.GetValue<string>() is not { } version || !version.StartsWith("3.", StringComparison.Ordinal))
        {
            return ([], ["Only OpenAPI 3 documents can be imported ('openapi': '3.x')."]);
        }

        var server = baseUrl ?? document["servers"]?[0]?["url"]?.GetValue<string>();
        if (server is null || !Uri.TryCreate(server, UriKind.Absolute, out _))
        {
            return ([], ["The document names no absolute server URL; pass baseUrl."]);
        }

        var tools = new List<ToolDefinition>();
        foreach (var (path, item) in document["paths"]?.AsObject() ?? [])
        {
            foreach (var method in Methods.Where(m => item?[m] is JsonObject))
            {
                var operation = item![method]!.AsObject();
                var operationId = operation["operationId"]?.GetValue<string>() ?? $"{method}_{path}";
                var name = $"http.{prefix}{Sanitise(operationId)}";
                if (name.Length > 69)
                {
                    problems.Add($"{method.ToUpperInvariant()} {path}: the tool name '{name}' is too long; skipped.");
                    continue;
                }

                var (parameters, query) = Arguments(document, item.AsObject(), operation);
                tools.Add(new ToolDefinition(
                    name,
                    operation["summary"]?.GetValue<string>() ?? operation["description"]?.GetValue<string>() ?? $"{method.ToUpperInvariant()} {path}",
                    "http",
                    method switch { "get" => SideEffects.ReadOnly, "put" or "delete" => SideEffects.Idempotent, _ => SideEffects.SideEffecting },
                    JsonDocument.Parse(parameters.ToJsonString()).RootElement.Clone(),
                    null,
                    30_000,
                    1,
                    new HttpBinding(method.ToUpperInvariant(), server.TrimEnd('/') + path, null, query.ToArray())));
            }
        }

        return (tools, problems);
    }

    private static (JsonObject Schema, List<string> Query) Arguments(JsonObject document, JsonObject pathItem, JsonObject operation)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        var query = new List<string>();
        var declared = (pathItem["parameters"]?.AsArray() ?? []).Concat(operation["parameters"]?.AsArray() ?? []);
        foreach (var parameter in declared.Select(p => Resolve(document, p, 0)).OfType<JsonObject>())
        {
            var name = parameter["name"]?.GetValue<string>();
            var location = parameter["in"]?.GetValue<string>();
            if (name is null || location is not ("path" or "query"))
            {
                continue;
            }

            properties[name] = Resolve(document, parameter["schema"], 0) ?? new JsonObject { ["type"] = "string" };
            if (location == "query")
            {
                query.Add(name);
            }

            if (location == "path" || parameter["required"]?.GetValue<bool>() == true)
            {
                required.Add(name);
            }
        }

        if (Resolve(document, operation["requestBody"], 0)?["content"]?["application/json"]?["schema"] is { } bodySchema
            && Resolve(document, bodySchema, 0) is JsonObject body && body["properties"] is JsonObject bodyProperties)
        {
            foreach (var (name, schema) in bodyProperties)
            {
                properties[name] = schema?.DeepClone();
            }

            foreach (var name in body["required"]?.AsArray() ?? [])
            {
                required.Add(name?.DeepClone());
            }
        }

        var result = new JsonObject { ["type"] = "object", ["properties"] = properties };
        if (required.Count > 0)
        {
            result["required"] = required;
        }

        return (result, query);
    }

    /// <summary>A copy of the node with local <c>#/...</c> references replaced by what they point at.</summary>
    private static JsonNode? Resolve(JsonObject document, JsonNode? node, int depth)
    {
        if (depth > MaxRefDepth)
        {
            return new JsonObject();
        }

        switch (node)
        {
            case JsonObject obj when obj["$ref"]?.GetValue<string>() is { } reference:
                var target = reference.StartsWith("#/", StringComparison.Ordinal)
                    ? reference[2..].Split('/').Aggregate((JsonNode?)document, (current, part) => current?[part.Replace("~1", "/").Replace("~0", "~")])
                    : null;
                return Resolve(document, target, depth + 1);
            case JsonObject obj:
                return new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Resolve(document, p.Value, depth + 1))));
            case JsonArray array:
                return new JsonArray(array.Select(i => Resolve(document, i, depth + 1)).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    private static string Sanitise(string operationId) => Unsafe().Replace(operationId.ToLowerInvariant(), "_").Trim('_');

    [GeneratedRegex("[^a-z0-9_-]+")]
    private static partial Regex Unsafe();
}
