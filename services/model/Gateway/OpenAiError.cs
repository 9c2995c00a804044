using System.Text.Json;

namespace Platform.Model.Gateway;

/// <summary>Errors in OpenAI's shape (<c>{"error": {message, type, param, code}}</c>), which its clients parse.</summary>
public sealed record OpenAiError(int Status, string Message, string Type, string? Param, string? Code)
{
    public static OpenAiError InvalidRequest(string message, string? param = null, string? code = null) =>
        new(StatusCodes.Status400BadRequest, message, "invalid_request_error", param, code);

    public static OpenAiError InvalidApiKey(string message) =>
        new(StatusCodes.Status401Unauthorized, message, "invalid_request_error", null, "invalid_api_key");

    public static OpenAiError Forbidden(string message) =>
        new(StatusCodes.Status403Forbidden, message, "permission_error", null, "insufficient_permissions");

    public static OpenAiError UpstreamFailed(string message) =>
        new(StatusCodes.Status502BadGateway, message, "api_error", null, "upstream_error");

    public IResult AsResult() => Results.Json(new { error = new { message = Message, type = Type, param = Param, code = Code } }, statusCode: Status);

    public Task WriteAsync(HttpContext context) => AsResult().ExecuteAsync(context);

    public static string AsJson(OpenAiError error) =>
        JsonSerializer.Serialize(new { error = new { message = error.Message, type = error.Type, param = error.Param, code = error.Code } });
}
