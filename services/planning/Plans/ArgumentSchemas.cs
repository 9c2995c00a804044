using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NJsonSchema;
using NJsonSchema.References;
using NJsonSchema.Validation;

namespace Platform.Planning.Plans;

/// <summary>
/// Checks a step's literal arguments against its tool's JSON Schema. Values that are references to earlier outputs are
/// only known when the step runs, so problems at (or inside) them are left for the tool service to find then. A schema
/// is tenant input: it is compiled with local references only, never fetching a remote <c>$ref</c>.
/// </summary>
public sealed class ArgumentSchemas
{
    private const int MaxCompiled = 1000;
    private readonly ConcurrentDictionary<string, Lazy<Task<(JsonSchema? Schema, string? Problem)>>> _compiled = new(StringComparer.Ordinal);

    /// <summary>Each problem as <c>/pointer: rule</c>; empty when the arguments fit.</summary>
    public async Task<IReadOnlyList<string>> ValidateAsync(JsonElement schema, JsonObject arguments, IReadOnlyCollection<string> referencePointers)
    {
        if (_compiled.Count > MaxCompiled)
        {
            _compiled.Clear();
        }

        var (compiled, problem) = await _compiled.GetOrAdd(schema.GetRawText(), text => new(() => CompileAsync(text))).Value;
        if (compiled is null)
        {
            return [$"the tool's parameters schema cannot be checked: {problem}"];
        }

        try
        {
            return Flatten(compiled.Validate(arguments.ToJsonString()))
                .Where(e => !referencePointers.Any(p => e.Pointer == p || e.Pointer.StartsWith(p + "/", StringComparison.Ordinal)))
                .Select(e => $"{(e.Pointer.Length == 0 ? "(arguments)" : e.Pointer)}: {e.Rule}")
                .Distinct()
                .ToList();
        }
        catch (RegexMatchTimeoutException)
        {
            // ServiceDefaults bounds every match: a tenant's pattern that backtracks without end fails the check, not a core.
            return ["a pattern of the tool's parameters schema took too long to match these arguments"];
        }
    }

    private static async Task<(JsonSchema?, string?)> CompileAsync(string text)
    {
        try
        {
            return (await JsonSchema.FromJsonAsync(text, null, schema => new LocalReferencesOnly(new JsonSchemaAppender(schema, new DefaultTypeNameGenerator()))), null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A tenant's schema NJsonSchema cannot read (or one that points elsewhere): say so rather than fail the plan with a 500.
            return (null, e.Message.Length > 200 ? e.Message[..200] : e.Message);
        }
    }

    private static IEnumerable<(string Pointer, string Rule)> Flatten(IEnumerable<ValidationError> errors)
    {
        foreach (var error in errors)
        {
            if (error is ChildSchemaValidationError child && child.Errors.Count > 0)
            {
                foreach (var nested in Flatten(child.Errors.SelectMany(e => e.Value)))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return (Pointer(error), Rule(error.Kind));
            }
        }
    }

    /// <summary>NJsonSchema paths look like <c>#/items[0].name</c>; JSON Pointer writes <c>/items/0/name</c>.</summary>
    private static string Pointer(ValidationError error)
    {
        var pointer = (error.Path ?? "#").TrimStart('#').Replace("[", "/", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal).Replace('.', '/');
        if (error.Kind == ValidationErrorKind.PropertyRequired && error.Property is { } property && !pointer.EndsWith("/" + property, StringComparison.Ordinal))
        {
            pointer += "/" + property;
        }

        return pointer.StartsWith('/') || pointer.Length == 0 ? pointer : "/" + pointer;
    }

    private static string Rule(ValidationErrorKind kind) => kind switch
    {
        ValidationErrorKind.PropertyRequired => "required",
        ValidationErrorKind.NoAdditionalPropertiesAllowed => "not allowed (additionalProperties)",
        ValidationErrorKind.StringTooShort => "too short (minLength)",
        ValidationErrorKind.StringTooLong => "too long (maxLength)",
        ValidationErrorKind.NumberTooSmall => "too small (minimum)",
        ValidationErrorKind.NumberTooBig => "too big (maximum)",
        ValidationErrorKind.NotInEnumeration => "not one of the allowed values (enum)",
        ValidationErrorKind.PatternMismatch => "does not match the pattern",
        ValidationErrorKind.TooFewItems => "too few items (minItems)",
        ValidationErrorKind.TooManyItems => "too many items (maxItems)",
        _ when kind.ToString().EndsWith("Expected", StringComparison.Ordinal) => $"wrong type ({kind})",
        _ => kind.ToString(),
    };

    /// <summary>Resolves <c>#/…</c> references inside the schema and refuses files and URLs.</summary>
    private sealed class LocalReferencesOnly(JsonSchemaAppender appender) : JsonReferenceResolver(appender)
    {
        public override Task<IJsonReference> ResolveFileReferenceAsync(string filePath, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException($"the reference '{filePath}' is outside the schema, and remote references are never resolved");

        public override Task<IJsonReference> ResolveUrlReferenceAsync(string url, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException($"the reference '{url}' is outside the schema, and remote references are never resolved");
    }
}
