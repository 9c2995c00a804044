using System.Text.Json;
using Platform.ServiceDefaults.Json;

namespace Platform.Tool.Invocations;

/// <summary>
/// Checks arguments against a tool's JSON Schema, naming each problem by JSON Pointer and the rule broken. The schema
/// is compiled by <see cref="SchemaCheck"/>, so a tool stored before it (with a remote <c>$ref</c>, say) is refused
/// here rather than fetched or run into a failure.
/// </summary>
public sealed class ArgumentValidator
{
    private readonly SchemaCache _schemas = new();

    public async Task<ArgumentCheck> ValidateAsync(JsonElement schema, JsonElement arguments)
    {
        if (StorableJson.Problem(arguments) is { } unstorable)
        {
            return new ArgumentCheck([unstorable], null);
        }

        var compiled = await _schemas.CompileAsync(schema);
        if (compiled.Problem is { } problem)
        {
            return new ArgumentCheck([], problem);
        }

        var verdict = SchemaValidation.Validate(compiled.Schema!, arguments);
        return verdict.TimedOut
            ? new ArgumentCheck([new SchemaViolation("", "pattern", "A pattern of the tool's schema took too long to match these arguments.")], null)
            : new ArgumentCheck(verdict.Violations, null);
    }
}

/// <summary>What is wrong with the arguments, or (<paramref name="SchemaProblem"/>) why the tool's schema cannot be used at all.</summary>
public sealed record ArgumentCheck(IReadOnlyList<SchemaViolation> Errors, string? SchemaProblem);
