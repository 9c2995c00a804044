using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Tool.Invocations;
using Platform.Tool.Registry;
using Platform.ServiceDefaults.Json;
using Platform.ServiceDefaults.Net;

namespace Platform.Tool.Apis;

/// <summary>
/// What an HTTP tool must be for every later read, list and call of it to work, checked before it is stored, whether
/// it is put or imported: keyed by the request field at fault.
/// </summary>
public static partial class ToolValidation
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    public static async Task<Dictionary<string, string[]>> ProblemsAsync(string name, ToolRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (!HttpToolName().IsMatch(name))
        {
            errors["name"] = ["A registered HTTP tool is named 'http.<name>': 1 to 64 lower-case letters, digits, '_' or '-' after the prefix."];
        }

        if (string.IsNullOrWhiteSpace(request.Description) || request.Description.Length > 2000)
        {
            errors["description"] = ["A description is required (at most 2000 characters): the model chooses tools by it."];
        }

        if (request.SideEffect is null || !SideEffects.All.Contains(request.SideEffect))
        {
            errors["sideEffect"] = [$"One of: {string.Join(", ", SideEffects.All)}."];
        }

        if (request.Parameters is not { ValueKind: JsonValueKind.Object } parameters
            || !parameters.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object")
        {
            errors["parameters"] = ["A JSON Schema object whose type is \"object\"."];
        }
        else if (await SchemaProblemAsync(parameters) is { } problem)
        {
            errors["parameters"] = [problem];
        }

        if (request.ResultSchema is { ValueKind: not JsonValueKind.Null } resultSchema && await SchemaProblemAsync(resultSchema) is { } resultProblem)
        {
            errors["resultSchema"] = [resultProblem];
        }

        if (request.Http is not { } http)
        {
            errors["http"] = ["An http binding with a method (GET, POST, PUT, PATCH, DELETE) and an absolute http(s) url, e.g. https://api.example.com/items/{id}."];
        }
        else
        {
            AddBindingProblems(http, errors);
        }

        if (request.TimeoutMs is < 100 or > 600_000)
        {
            errors["timeoutMs"] = ["From 100 to 600000 milliseconds."];
        }

        return errors;
    }

    private static async Task<string?> SchemaProblemAsync(JsonElement schema) =>
        StorableJson.Problem(schema) is { } unstorable ? $"The schema cannot be stored: '{unstorable.Pointer}': {unstorable.Message}"
        : (await SchemaCheck.CompileAsync(schema)).Problem is { } problem ? $"The schema cannot be used: {problem}."
        : null;

    private static void AddBindingProblems(HttpBinding http, Dictionary<string, string[]> errors)
    {
        if (http.Method?.ToUpperInvariant() is not { } method || !Methods.Contains(method))
        {
            errors["http.method"] = [$"One of {string.Join(", ", Methods)}."];
        }

        if (UrlProblem(http.Url) is { } url)
        {
            errors["http.url"] = [url];
        }

        if (HeaderProblem(http.Headers) is { } headers)
        {
            errors["http.headers"] = [headers];
        }

        if (http.Query is { } query && (query.Length > 100 || query.Any(q => q is not { Length: > 0 and <= 200 })))
        {
            errors["http.query"] = ["At most 100 argument names of 1 to 200 characters."];
        }
    }

    /// <summary>The template must give an absolute http(s) URL whatever its placeholders hold: tried with sample values.</summary>
    private static string? UrlProblem(string? template)
    {
        var expected = $"{HttpUrl.Rule[..^1]}, with {{argument}} placeholders, e.g. https://api.example.com/items/{{id}}";
        if (template is not { Length: > 0 and <= HttpUrl.MaxLength })
        {
            return expected + ".";
        }

        foreach (var sample in new[] { "x", "1" })
        {
            var url = Placeholder().Replace(template, sample);
            if (HttpUrl.Problem(url) is { } problem)
            {
                return $"{expected}; with '{sample}' for each placeholder it is '{(url.Length > 200 ? url[..200] + "…" : url)}': {problem}";
            }
        }

        return null;
    }

    private static string? HeaderProblem(Dictionary<string, string>? headers)
    {
        if (headers is null)
        {
            return null;
        }

        if (headers.Count > 50)
        {
            return "At most 50 headers.";
        }

        using var probe = new HttpRequestMessage();
        foreach (var (name, value) in headers)
        {
            if (!HeaderName().IsMatch(name) || !probe.Headers.TryAddWithoutValidation(name, "x"))
            {
                return $"'{name}' is not a header a request can carry (content headers such as Content-Type are set by the tool).";
            }

            if (value is not { Length: <= 8000 } || !IsHeaderText(value))
            {
                return $"The value of '{name}' must be at most 8000 printable ASCII characters (no line breaks), as HTTP carries them.";
            }
        }

        return null;
    }

    /// <summary>Printable ASCII, spaces and tabs: what a header value carries without being refused when the call is made.</summary>
    public static bool IsHeaderText(string value) => value.All(c => c is '\t' or (>= ' ' and <= '~'));

    [GeneratedRegex("^http\\.[a-z0-9_-]{1,64}$")]
    private static partial Regex HttpToolName();

    [GeneratedRegex(@"\{[A-Za-z0-9_]+\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")]
    private static partial Regex HeaderName();
}
