using System.Text.Json;
using System.Text.RegularExpressions;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Platform.ServiceDefaults.Json;

/// <summary>One broken rule: where (a JSON Pointer into the value) and which keyword (<c>required</c>, <c>maxLength</c>, <c>type</c>…).</summary>
public sealed record SchemaViolation(string Pointer, string Rule, string Message);

/// <summary>A value checked against a schema: what it breaks, or that a pattern took too long to tell.</summary>
public sealed record SchemaVerdict(IReadOnlyList<SchemaViolation> Violations, bool TimedOut);

/// <summary>
/// Validates a value against a schema <see cref="SchemaCheck"/> compiled, naming each problem the one way every
/// service reports it: by JSON Pointer and the keyword broken.
/// </summary>
public static class SchemaValidation
{
    public static SchemaVerdict Validate(JsonSchema schema, JsonElement value)
    {
        try
        {
            return new SchemaVerdict([.. Flatten(schema.Validate(Token(value)))], TimedOut: false);
        }
        catch (RegexMatchTimeoutException)
        {
            // NJsonSchema matches patterns under the process default match timeout (RegexMatchTimeout): a tenant's
            // pattern that backtracks without end fails the check, not a core.
            return new SchemaVerdict([], TimedOut: true);
        }
    }

    /// <summary>
    /// The value as NJsonSchema's Newtonsoft tokens, converted here rather than re-parsed, which would fail on
    /// integers beyond 64 bits.
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

    private static IEnumerable<SchemaViolation> Flatten(IEnumerable<ValidationError> errors)
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
                yield return new SchemaViolation(Pointer(error), Rule(error.Kind), error.ToString());
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
