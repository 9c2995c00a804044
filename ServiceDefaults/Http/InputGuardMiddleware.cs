using Microsoft.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// Refuses, before any endpoint binds it, input no endpoint can store or read unambiguously: NUL characters and lone
/// surrogates in any JSON string, property name, form field, query or route value; JSON with a duplicate property or
/// nested too deeply; multipart bodies, which no endpoint takes. The answer is a 400 (or 415) naming the field.
/// </summary>
internal sealed class InputGuardMiddleware(RequestDelegate next)
{
    private const int MaxDepth = 64;

    public async Task InvokeAsync(HttpContext context)
    {
        var problem = CheckUrl(context.Request) ?? await CheckBodyAsync(context);
        if (problem is { } refusal)
        {
            await ErrorResponses.WriteAsync(context, refusal.Status, refusal.Status == StatusCodes.Status400BadRequest ? "Invalid input" : "Unsupported content type",
                refusal.Detail, refusal.Field);
            return;
        }

        await next(context);
    }

    private static Refusal? CheckUrl(HttpRequest request)
    {
        foreach (var (name, values) in request.Query)
        {
            var refusal = Text(name, $"query parameter name '{Printable(name)}'")
                ?? values.Select(v => Text(v ?? "", $"query parameter '{Printable(name)}'")).FirstOrDefault(r => r is not null);
            if (refusal is not null)
            {
                return refusal;
            }
        }

        return request.RouteValues.Select(v => v.Value is string s ? Text(s, $"path segment '{v.Key}'") : null).FirstOrDefault(r => r is not null);
    }

    private static async Task<Refusal?> CheckBodyAsync(HttpContext context)
    {
        var request = context.Request;
        // A request without a body is not malformed, whatever Content-Type it names: the endpoint decides whether it needs one.
        if (request.ContentType is not { } contentType || request.ContentLength == 0
            || context.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return null;
        }

        if (contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase))
        {
            return new Refusal(StatusCodes.Status415UnsupportedMediaType, "Multipart bodies are not accepted; send application/json.", null);
        }

        ApplyEndpointSizeLimit(context);
        if (request.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await request.ReadFormAsync(context.RequestAborted);
            }
            catch (InvalidDataException e)
            {
                // ASP.NET's form reader refuses NUL characters and malformed encodings itself.
                return new Refusal(StatusCodes.Status400BadRequest, $"The form cannot be read: {e.InnerException?.Message ?? e.Message}", null);
            }

            return form.SelectMany(f => f.Value.Select(v => Text(v ?? "", $"form field '{Printable(f.Key)}'")).Prepend(Text(f.Key, "a form field name")))
                .FirstOrDefault(r => r is not null);
        }

        if (!IsJson(contentType))
        {
            return null;
        }

        // RFC 8259: JSON exchanged between systems is UTF-8; other charsets are where readers disagree or fail.
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || mediaType.Charset is { HasValue: true } charset && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return new Refusal(StatusCodes.Status415UnsupportedMediaType, "JSON bodies are accepted in UTF-8 only; send application/json without another charset.", null);
        }

        request.EnableBuffering();
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, context.RequestAborted);
        request.Body.Position = 0;
        if (buffer.Length == 0)
        {
            // An empty chunked body is no body: endpoints bind it as absent, not as malformed JSON.
            context.Features.Set<IHttpRequestBodyDetectionFeature>(new NoBody());
            return null;
        }

        return CheckJson(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>The endpoint's own size limit (e.g. the gateway's 8 MB), applied before this reads the body.</summary>
    private static void ApplyEndpointSizeLimit(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>() is { } limit
            && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            feature.MaxRequestBodySize = limit.MaxRequestBodySize;
        }
    }

    private static Refusal? CheckJson(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth, CommentHandling = JsonCommentHandling.Disallow });
        var path = new List<string>();
        var names = new Stack<HashSet<string>>();
        var indexes = new Stack<int>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject:
                        Enter(path, indexes);
                        names.Push(new HashSet<string>(StringComparer.Ordinal));
                        indexes.Push(-1);
                        break;
                    case JsonTokenType.StartArray:
                        Enter(path, indexes);
                        indexes.Push(0);
                        break;
                    case JsonTokenType.EndObject:
                        names.Pop();
                        indexes.Pop();
                        Leave(path);
                        break;
                    case JsonTokenType.EndArray:
                        indexes.Pop();
                        Leave(path);
                        break;
                    case JsonTokenType.PropertyName:
                        var name = ReadString(ref reader, path, out var nameRefusal);
                        if (nameRefusal is not null)
                        {
                            return nameRefusal;
                        }

                        if (!names.Peek().Add(name!))
                        {
                            return new Refusal(StatusCodes.Status400BadRequest, $"Property '{Printable(name!)}' appears twice in the same object.", Field(path, name));
                        }

                        path.Add(name!);
                        break;
                    case JsonTokenType.String:
                        Enter(path, indexes);
                        ReadString(ref reader, path, out var valueRefusal);
                        if (valueRefusal is not null)
                        {
                            return valueRefusal;
                        }

                        Leave(path);
                        break;
                    default:
                        Enter(path, indexes);
                        Leave(path);
                        break;
                }
            }
        }
        catch (JsonException e)
        {
            return new Refusal(StatusCodes.Status400BadRequest, $"The body is not valid JSON (at most {MaxDepth} levels deep): {e.Message}", null);
        }

        return null;
    }

    /// <summary>A value inside an array gets its index as a path segment; inside an object its name is already there.</summary>
    private static void Enter(List<string> path, Stack<int> indexes)
    {
        if (indexes.TryPeek(out var index) && index >= 0)
        {
            path.Add($"[{index}]");
            indexes.Pop();
            indexes.Push(index + 1);
        }
        else if (indexes.Count == 0)
        {
            path.Add("");
        }
    }

    private static void Leave(List<string> path)
    {
        if (path.Count > 0)
        {
            path.RemoveAt(path.Count - 1);
        }
    }

    private static string? ReadString(ref Utf8JsonReader reader, List<string> path, out Refusal? refusal)
    {
        string text;
        try
        {
            text = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            refusal = new Refusal(StatusCodes.Status400BadRequest, $"'{Field(path, null)}' contains a lone surrogate, which is not valid Unicode text.", Field(path, null));
            return null;
        }

        refusal = StorableText.Problem(text) is { } problem
            ? new Refusal(StatusCodes.Status400BadRequest, $"'{Field(path, reader.TokenType == JsonTokenType.PropertyName ? Printable(text) : null)}' {problem}.", Field(path, null))
            : null;
        return text;
    }

    private static string Field(List<string> path, string? last)
    {
        var builder = new StringBuilder();
        foreach (var segment in path.Append(last).OfType<string>().Where(s => s.Length > 0))
        {
            builder.Append(segment.StartsWith('[') || builder.Length == 0 ? segment : "." + segment);
        }

        return builder.Length == 0 ? "(body)" : builder.ToString();
    }

    private static Refusal? Text(string text, string field) =>
        StorableText.Problem(text) is { } problem ? new Refusal(StatusCodes.Status400BadRequest, $"The {field} {problem}.", field) : null;

    private static string Printable(string text) =>
        new(text.Take(100).Select(c => c == '\0' || char.IsSurrogate(c) ? '\uFFFD' : c).ToArray());

    private static bool IsJson(string contentType) =>
        contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
        || contentType.Split(';')[0].EndsWith("+json", StringComparison.OrdinalIgnoreCase);

    private sealed record Refusal(int Status, string Detail, string? Field);

    private sealed class NoBody : IHttpRequestBodyDetectionFeature
    {
        public bool CanHaveBody => false;
    }
}
