using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Sweep;

/// <summary>
/// One error shape per API: OpenAI's <c>{"error": {"message", "type"}}</c> on its endpoints, problem+json with a title
/// and the status everywhere else. The dashboard's pages may answer a browser with a page instead.
/// </summary>
public static class ErrorShape
{
    /// <summary>What is wrong with the shape of an error answer; null when it is right or not an error.</summary>
    public static string? Check(HostileRequest request, int status, string? mediaType, string body)
    {
        // Invalid HTTP is refused by Kestrel's parser before any middleware could write a body.
        if (status < 400 || request.InvalidHttp)
        {
            return null;
        }

        if (request.Operation.SpeaksOpenAi && !LeavesPath(request))
        {
            return OpenAi(mediaType, body);
        }

        return request.Operation.IsPage && mediaType == "text/html" ? null : Problem(status, mediaType, body);
    }

    /// <summary>
    /// A dot segment in the target (<c>/v1/models/%2e%2e</c>) is resolved by the server to another path
    /// (<c>/v1</c>), which answers in that path's shape.
    /// </summary>
    private static bool LeavesPath(HostileRequest request)
    {
        var path = request.Target.Split('?')[0].Replace("%2e", ".", StringComparison.OrdinalIgnoreCase);
        return path.Split('/').Any(segment => segment is "." or "..");
    }

    private static string? OpenAi(string? mediaType, string body)
    {
        if (mediaType != "application/json")
        {
            return $"Content-Type {mediaType ?? "missing"} instead of OpenAI's application/json";
        }

        return Parse(body)?["error"] is JsonObject error && IsString(error["message"]) && IsString(error["type"])
            ? null
            : "not OpenAI's {\"error\": {\"message\", \"type\"}}";
    }

    private static string? Problem(int status, string? mediaType, string body)
    {
        if (mediaType != "application/problem+json")
        {
            return $"Content-Type {mediaType ?? "missing"} instead of application/problem+json";
        }

        var problem = Parse(body);
        if (!IsString(problem?["title"]))
        {
            return "no title";
        }

        return problem!["status"] is JsonValue value && value.TryGetValue<int>(out var number) && number == status
            ? null
            : $"status {problem["status"]?.ToJsonString() ?? "missing"} instead of {status}";
    }

    private static bool IsString(JsonNode? node) => node is JsonValue value && value.GetValueKind() == JsonValueKind.String;

    private static JsonObject? Parse(string? body)
    {
        try
        {
            return body is null ? null : JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
