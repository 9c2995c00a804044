using Platform.ServiceDefaults.Http;

namespace Platform.Model.Gateway;

/// <summary>OpenAI's clients parse errors in OpenAI's shape only: every error on the OpenAI-compatible paths takes it.</summary>
public sealed class OpenAiErrorShape : IErrorShape
{
    public static readonly string[] Paths = ["/v1/chat/completions", "/v1/embeddings", "/v1/models"];

    public Task WriteAsync(HttpContext context, int status, string message, string? field) => (status switch
    {
        StatusCodes.Status401Unauthorized => OpenAiError.InvalidApiKey(message),
        StatusCodes.Status403Forbidden => OpenAiError.Forbidden(message),
        StatusCodes.Status413PayloadTooLarge => new OpenAiError(status, message, "invalid_request_error", field, "request_too_large"),
        >= 500 => new OpenAiError(status, message, "server_error", null, null),
        _ => new OpenAiError(status, message, "invalid_request_error", field, null),
    }).WriteAsync(context);
}
