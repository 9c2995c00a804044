using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// Malformed input (unreadable JSON, wrong types, oversized bodies) is the client's error: answer with its own status
/// code and say what was wrong. Anything else is ours: a 500 in the path's error shape, logged with the trace.
/// </summary>
internal sealed class BadRequestExceptionHandler(ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is BadHttpRequestException badRequest)
        {
            var detail = badRequest.InnerException is { } inner ? $"{badRequest.Message} {inner.Message}" : badRequest.Message;
            await ErrorResponses.WriteAsync(httpContext, badRequest.StatusCode, "Bad request", detail);
            return true;
        }

        logger.LogError(exception, "Unhandled exception on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        await ErrorResponses.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, "Internal server error",
            "The service failed to handle this request; the failure is logged with this request's trace id.");
        return true;
    }
}
