using System.Text.Json;
using NJsonSchema;

namespace Platform.ServiceDefaults.Json;

/// <summary>A tenant's JSON Schema compiled, or why it cannot be used.</summary>
public sealed record CheckedSchema(JsonSchema? Schema, string? Problem);

/// <summary>
/// Compiles a tenant's JSON Schema (a tool's parameters, an agent's output schema, a planned step's tool) the one way
/// every service does, on write and before validating a value: only local references, patterns that compile, and no
/// recursion or blow-up that validating a value could run into. A schema that passes here validates any value without
/// failing.
/// </summary>
public static class SchemaCheck
{
    public static async Task<CheckedSchema> CompileAsync(JsonElement schema)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return new CheckedSchema(null, "a JSON Schema is a JSON object");
        }

        if (SchemaKeywords.Problem(schema) is { } problem)
        {
            return new CheckedSchema(null, problem);
        }

        JsonSchema compiled;
        try
        {
            compiled = await JsonSchema.FromJsonAsync(schema.GetRawText(), null, root => new LocalReferencesOnly(root));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // NJsonSchema reports what it cannot read with Newtonsoft's, its own and the framework's exceptions alike.
            return new CheckedSchema(null, $"it does not compile: {Reason(e)}");
        }

        return SchemaCost.Problem(compiled) is { } cost ? new CheckedSchema(null, cost) : new CheckedSchema(compiled, null);
    }

    /// <summary>Whether a <c>$ref</c> stays within its schema (<c>#…</c>): the only references any service resolves or passes on.</summary>
    public static bool IsLocalReference(string reference) => reference.StartsWith('#');

    private static string Reason(Exception e) => e.InnerException is { } inner && e is InvalidOperationException
        ? $"{e.Message} {Reason(inner)}"
        : e.Message;
}
