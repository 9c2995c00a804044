using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Newtonsoft.Json.Linq;
using NJsonSchema.Validation;
using Platform.Tool.Schemas;

namespace Platform.Tool.Invocations;

/// <summary>
/// Checks arguments against a tool's JSON Schema, naming each problem by JSON Pointer and the rule broken. The schema
/// is compiled by <see cref="SchemaCheck"/>, so a tool stored before it (with a remote <c>$ref</c>, say) is refused
/// here rather than fetched or run into a failure.
/// </summary>
public sealed class ArgumentValidator
{
    private readonly ConcurrentDictionary<string, Task<CheckedSchema>> _schemas = new();

    public async Task<ArgumentCheck> ValidateAsync(JsonElement schema, JsonElement arguments)
    {
        if (StorableJson.Problem(arguments) is { } unstorable)
        {
            return new ArgumentCheck([unstorable], null);
        }

        if (_schemas.Count > 10_000)
        {
            _schemas.Clear();
        }

        var compiled = await _schemas.GetOrAdd(schema.GetRawText(), _ => SchemaCheck.CompileAsync(schema.Clone()));
        if (compiled.Problem is { } problem)
        {
            return new ArgumentCheck([], problem);
        }

        try
        {
            return new ArgumentCheck(Flatten(compiled.Schema!.Validate(Token(arguments))).ToList(), null);
        }
        catch (RegexMatchTimeoutException)
        {
            // NJsonSchema matches patterns under the process default match timeout that ServiceDefaults sets.
            return new ArgumentCheck([new ArgumentError("", "pattern", "A pattern of the tool's schema took too long to match these arguments.")], null);
        }
    }

    /// <summary>
    /// The arguments as NJsonSchema's Newtonsoft tokens, converted here rather than re-parsed, which would fail on
    /// integers beyond 64 bits; every number is already known to fit a double.
    /// </summary>
    private static JToken Token(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => new JObject(element.EnumerateObject().Select(p => new JProperty(p.Name, Token(p.Value)))),
        JsonValueKind.Array => new JArray(element.EnumerateArray().Select(Token)),
        JsonValueKind.String => new JValue(element.GetString()),
        JsonValueKind.Number => element.TryGetInt64(out var integer) ? new JValue(integer)
            : element.TryGetDecimal(out var exact) ? new JValue(exact) : new JValue(element.GetDouble()),
        JsonValueKind.True => new JValue(true),
        JsonValueKind.False => new JValue(false),
        _ => JValue.CreateNull(),
    };

    private static IEnumerable<ArgumentError> Flatten(IEnumerable<ValidationError> errors)
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
                yield return new ArgumentError(Pointer(error), Rule(error.Kind), error.ToString());
            }
        }
    }

    /// <summary>NJsonSchema paths look like <c>#/items[0].name</c>; JSON Pointer writes <c>/items/0/name</c>.</summary>
    private static string Pointer(ValidationError error)
    {
        var path = error.Path ?? "#";
        var pointer = path.TrimStart('#').Replace("[", "/", StringComparison.Ordinal).Replace("]", "", StringComparison.Ordinal).Replace('.', '/');
        if (error.Kind == ValidationErrorKind.PropertyRequired && error.Property is { } property && !pointer.EndsWith("/" + property, StringComparison.Ordinal))
        {
            pointer += "/" + property;
        }

        return pointer.StartsWith('/') || pointer.Length == 0 ? pointer : "/" + pointer;
    }

    private static string Rule(ValidationErrorKind kind) => kind switch
    {
        ValidationErrorKind.PropertyRequired => "required",
        ValidationErrorKind.NoAdditionalPropertiesAllowed => "additionalProperties",
        ValidationErrorKind.StringTooShort => "minLength",
        ValidationErrorKind.StringTooLong => "maxLength",
        ValidationErrorKind.NumberTooSmall => "minimum",
        ValidationErrorKind.NumberTooBig => "maximum",
        ValidationErrorKind.NotInEnumeration => "enum",
        ValidationErrorKind.PatternMismatch => "pattern",
        ValidationErrorKind.TooFewItems => "minItems",
        ValidationErrorKind.TooManyItems => "maxItems",
        _ when kind.ToString().EndsWith("Expected", StringComparison.Ordinal) => "type",
        _ => kind.ToString(),
    };
}

/// <summary>What is wrong with the arguments, or (<paramref name="SchemaProblem"/>) why the tool's schema cannot be used at all.</summary>
public sealed record ArgumentCheck(IReadOnlyList<ArgumentError> Errors, string? SchemaProblem);

public sealed record ArgumentError(string Pointer, string Rule, string Message);
