using System.Collections.Concurrent;
using System.Text.Json;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Platform.Tool.Invocations;

/// <summary>Checks arguments against a tool's JSON Schema, naming each problem by JSON Pointer and the rule broken.</summary>
public sealed class ArgumentValidator
{
    private readonly ConcurrentDictionary<string, Task<JsonSchema>> _schemas = new();

    public async Task<IReadOnlyList<ArgumentError>> ValidateAsync(JsonElement schema, JsonElement arguments)
    {
        var text = schema.GetRawText();
        if (_schemas.Count > 10_000)
        {
            _schemas.Clear();
        }

        var compiled = await _schemas.GetOrAdd(text, json => JsonSchema.FromJsonAsync(json));
        return Flatten(compiled.Validate(arguments.GetRawText())).ToList();
    }

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

public sealed record ArgumentError(string Pointer, string Rule, string Message);
