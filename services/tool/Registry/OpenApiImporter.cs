using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Net;

namespace Platform.Tool.Registry;

/// <summary>
/// Turns an OpenAPI 3 document into HTTP tools, one per operation: path and query parameters and a JSON request body
/// become one arguments schema (local <c>$ref</c>s inlined, within a budget of nodes, since references that fan out
/// multiply with every level), GET reads, PUT and DELETE are idempotent, POST and PATCH have side effects.
/// </summary>
public static partial class OpenApiImporter
{
    private const int MaxRefDepth = 16;
    private const int MaxInlinedNodes = 200_000;
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    public static (IReadOnlyList<ToolDefinition> Tools, IReadOnlyList<string> Problems) Import(JsonObject document, string prefix, string? baseUrl)
    {
        var problems = new List<string>();
        if (document["openapi"]?.GetValue<string>() is not { } version || !version.StartsWith("3.", StringComparison.Ordinal))
        {
            return ([], ["Only OpenAPI 3 documents can be imported ('openapi': '3.x')."]);
        }

        var server = baseUrl ?? document["servers"]?[0]?["url"]?.GetValue<string>();
        if (server is null)
        {
            return ([], ["The document names no server URL; pass baseUrl."]);
        }

        if (HttpUrl.Problem(server) is { } serverProblem)
        {
            return ([], [$"The server URL cannot be called: {serverProblem} Pass baseUrl."]);
        }

        var tools = new List<ToolDefinition>();
        var budget = new NodeBudget();
        foreach (var (path, item) in document["paths"]?.AsObject() ?? [])
        {
            if (!path.StartsWith('/'))
            {
                problems.Add($"'{Shorten(path)}': a path starts with '/'; skipped.");
                continue;
            }

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

                var (parameters, query) = Arguments(document, item.AsObject(), operation, budget);
                var description = new[] { operation["summary"]?.GetValue<string>(), operation["description"]?.GetValue<string>() }
                    .FirstOrDefault(d => !string.IsNullOrWhiteSpace(d)) ?? $"{method.ToUpperInvariant()} {path}";
                tools.Add(new ToolDefinition(
                    name,
                    Shorten(description, 2000),
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

    private static (JsonObject Schema, List<string> Query) Arguments(JsonObject document, JsonObject pathItem, JsonObject operation, NodeBudget budget)
    {
        var properties = new JsonObject();
        var required = new JsonArray();
        var query = new List<string>();
        var declared = (pathItem["parameters"]?.AsArray() ?? []).Concat(operation["parameters"]?.AsArray() ?? []);
        foreach (var parameter in declared.Select(p => Resolve(document, p, 0, budget)).OfType<JsonObject>())
        {
            var name = parameter["name"]?.GetValue<string>();
            var location = parameter["in"]?.GetValue<string>();
            if (name is null || location is not ("path" or "query"))
            {
                continue;
            }

            properties[name] = Resolve(document, parameter["schema"], 0, budget) ?? new JsonObject { ["type"] = "string" };
            if (location == "query")
            {
                query.Add(name);
            }

            if (location == "path" || parameter["required"]?.GetValue<bool>() == true)
            {
                required.Add(name);
            }
        }

        if (Resolve(document, operation["requestBody"], 0, budget)?["content"]?["application/json"]?["schema"] is { } bodySchema
            && Resolve(document, bodySchema, 0, budget) is JsonObject body && body["properties"] is JsonObject bodyProperties)
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
    private static JsonNode? Resolve(JsonObject document, JsonNode? node, int depth, NodeBudget budget)
    {
        if (depth > MaxRefDepth)
        {
            return new JsonObject();
        }

        budget.Spend();

        switch (node)
        {
            case JsonObject obj when obj["$ref"]?.GetValue<string>() is { } reference:
                var target = reference.StartsWith("#/", StringComparison.Ordinal)
                    ? reference[2..].Split('/').Aggregate((JsonNode?)document, (current, part) => current?[part.Replace("~1", "/").Replace("~0", "~")])
                    : null;
                return Resolve(document, target, depth + 1, budget);
            case JsonObject obj:
                return new JsonObject(obj.Select(p => KeyValuePair.Create(p.Key, Resolve(document, p.Value, depth + 1, budget))));
            case JsonArray array:
                return new JsonArray(array.Select(i => Resolve(document, i, depth + 1, budget)).ToArray());
            default:
                return node?.DeepClone();
        }
    }

    private static string Shorten(string text, int length = 100) => text.Length > length ? text[..(length - 1)] + "…" : text;

    private static string Sanitise(string operationId) => Unsafe().Replace(operationId.ToLowerInvariant(), "_").Trim('_');

    [GeneratedRegex("[^a-z0-9_-]+")]
    private static partial Regex Unsafe();

    private sealed class NodeBudget
    {
        private int _left = MaxInlinedNodes;

        public void Spend()
        {
            if (--_left < 0)
            {
                throw new InvalidOperationException($"Inlining its references makes the document larger than {MaxInlinedNodes} nodes.");
            }
        }
    }
}
