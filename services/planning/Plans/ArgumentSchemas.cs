using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.ServiceDefaults.Json;

namespace Platform.Planning.Plans;

/// <summary>
/// Checks a step's literal arguments against its tool's JSON Schema, compiled as the tool service compiles it
/// (<see cref="SchemaCheck"/>). Values that are references to earlier outputs are only known when the step runs, so
/// problems at (or inside) them are left for the tool service to find then.
/// </summary>
public sealed class ArgumentSchemas
{
    private readonly SchemaCache _schemas = new();

    /// <summary>Each problem as <c>/pointer: rule</c>; empty when the arguments fit.</summary>
    public async Task<IReadOnlyList<string>> ValidateAsync(JsonElement schema, JsonObject arguments, IReadOnlyCollection<string> referencePointers)
    {
        var compiled = await _schemas.CompileAsync(schema);
        if (compiled.Problem is { } problem)
        {
            return [$"the tool's parameters schema cannot be checked: {problem}"];
        }

        var verdict = SchemaValidation.Validate(compiled.Schema!, JsonSerializer.SerializeToElement(arguments));
        if (verdict.TimedOut)
        {
            return ["a pattern of the tool's parameters schema took too long to match these arguments"];
        }

        return verdict.Violations
            .Where(v => !referencePointers.Any(p => v.Pointer == p || v.Pointer.StartsWith(p + "/", StringComparison.Ordinal)))
            .Select(v => $"{(v.Pointer.Length == 0 ? "(arguments)" : v.Pointer)}: breaks '{v.Rule}'")
            .Distinct()
            .ToList();
    }
}
