using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// Malformed input (unreadable JSON, wrong types, oversized bodies) is the client's error: answer with its own status
/// code and say what was wrong. A database or Redis that is briefly out of reach or out of connections is a 503 the
/// caller may retry after a second. Anything else is ours: a 500 in the path's error shape, logged with the trace.
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

        if (exception is NpgsqlException { IsTransient: true } or RedisConnectionException or RedisTimeoutException)
        {
            logger.LogWarning(exception, "A data server was unavailable for {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
            if (!httpContext.Response.HasStarted)
            {
                httpContext.Response.Headers.RetryAfter = "1";
            }

            await ErrorResponses.WriteAsync(httpContext, StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "A data store the service needs is briefly unavailable; retry the request.");
            return true;
        }

        logger.LogError(exception, "Unhandled exception on {Method} {Path}", httpContext.Request.Method, httpContext.Request.Path);
        await ErrorResponses.WriteAsync(httpContext, StatusCodes.Status500InternalServerError, "Internal server error",
            "The service failed to handle this request; the failure is logged with this request's trace id.");
        return true;
    }
}
