using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Platform.ServiceDefaults.Http;

/// <summary>A wire protocol's own error shape, for the paths that speak that protocol (OpenAI's, for instance).</summary>
public interface IErrorShape
{
    Task WriteAsync(HttpContext context, int status, string message, string? field);
}

/// <summary>Which paths answer errors in which shape; every other path answers problem+json.</summary>
public sealed class ErrorShapeOptions
{
    internal List<(PathString Prefix, IErrorShape Shape)> Shapes { get; } = [];

    public ErrorShapeOptions Use(IErrorShape shape, params string[] pathPrefixes)
    {
        Shapes.AddRange(pathPrefixes.Select(p => (new PathString(p), shape)));
        return this;
    }
}

/// <summary>
/// The one way every error leaves a service, whoever finds it (authentication, input checks, the exception handler,
/// status-code pages, a handler): in the shape of the protocol the path speaks, else as problem+json.
/// </summary>
public static class ErrorResponses
{
    public static Task WriteAsync(HttpContext context, int status, string title, string detail, string? field = null)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.StatusCode = status;
        var options = context.RequestServices.GetRequiredService<IOptions<ErrorShapeOptions>>().Value;
        foreach (var (prefix, shape) in options.Shapes)
        {
            if (context.Request.Path.StartsWithSegments(prefix))
            {
                return shape.WriteAsync(context, status, detail, field);
            }
        }

        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        if (field is not null)
        {
            problem.Extensions["field"] = field;
        }

        return WriteProblemAsync(context, problem);
    }

    // The problem details service declines a request whose Accept names no JSON type; the error is problem+json anyway.
    private static async Task WriteProblemAsync(HttpContext context, ProblemDetails problem)
    {
        if (!await context.RequestServices.GetRequiredService<IProblemDetailsService>()
            .TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
        {
            await context.Response.WriteAsJsonAsync(problem, (JsonSerializerOptions?)null, "application/problem+json");
        }
    }

    /// <summary>For status-code pages: an empty 404, 405 or 415 gets a body in the path's shape.</summary>
    public static Task WriteStatusAsync(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var title = ReasonPhrases.GetReasonPhrase(status);
        var detail = status switch
        {
            StatusCodes.Status404NotFound => "Nothing is found at this path, or it is not visible to this API key.",
            StatusCodes.Status405MethodNotAllowed => $"{context.Request.Method} is not allowed on this path.",
            StatusCodes.Status415UnsupportedMediaType => "The body's content type is not accepted here; send application/json.",
            _ => title,
        };
        return WriteAsync(context, status, title, detail);
    }
}
