using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.ServiceDefaults.Authentication;
using Platform.Tool.Invocations;
using Platform.ServiceDefaults.Http;

namespace Platform.Tool.Apis;

public static class InvocationsApi
{
    public static IEndpointRouteBuilder MapInvocationsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Invocations").RequireScope(Scopes.Tools);

        api.MapPost("/tools/{name}/invocations", Invoke);
        api.MapGet("/invocations", ListInvocations);
        api.MapGet("/invocations/{id:guid}", GetInvocation);

        return app;
    }

    /// <summary>
    /// Invokes a tool once per idempotency key: 200 with the outcome (<c>replayed</c> when recorded earlier), 202 while
    /// it waits for approval, 400 naming each invalid argument by JSON pointer and rule, 409 when the key was used for
    /// another call or the tool's stored schema cannot be used, 429 over the tool's rate limit. Each refusal carries a
    /// <c>code</c> and whether the same request may succeed later (<c>retryable</c>), as a failed invocation does.
    /// </summary>
    public static async Task<IResult> Invoke(string name, InvocationRequest request, HttpContext context, InvocationEngine engine)
    {
        var outcome = await engine.InvokeAsync(context.User.TenantId(), context.User.KeyId(), name, request, context.RequestAborted);
        switch (outcome.Kind)
        {
            case "not_found":
                return TypedResults.NotFound();
            case "invalid":
                var invalid = Coded(outcome.ErrorField == "arguments" ? InvocationErrors.InvalidArguments : InvocationErrors.InvalidRequest);
                invalid["errors"] = outcome.Errors!.Select(e => new { pointer = e.Pointer, rule = e.Rule, message = e.Message });
                invalid["field"] = outcome.ErrorField;
                return TypedResults.Problem(new ProblemDetails
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "Invalid arguments",
                    Detail = string.Join(" ", outcome.Errors!.Select(e => $"{(e.Pointer.Length == 0 ? "/" : e.Pointer)}: {e.Rule}.")),
                    Extensions = invalid,
                });
            case "conflict":
                return TypedResults.Problem(outcome.Message, statusCode: StatusCodes.Status409Conflict, title: "Idempotency key reused",
                    extensions: Coded(InvocationErrors.IdempotencyKeyReused));
            case "unusable":
                var unusable = Coded(InvocationErrors.ToolUnusable);
                unusable["field"] = outcome.ErrorField;
                return TypedResults.Problem(outcome.Message, statusCode: StatusCodes.Status409Conflict, title: "Tool cannot be invoked", extensions: unusable);
            case "rate_limited":
                context.Response.Headers.RetryAfter = Math.Ceiling(outcome.RetryAfter!.Value.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
                return TypedResults.Problem("The tool's rate limit for this tenant is reached.", statusCode: StatusCodes.Status429TooManyRequests, title: "Rate limited",
                    extensions: Coded(InvocationErrors.RateLimited));
            default:
                var dto = outcome.Row!.AsDto(outcome.Replayed);
                return dto.Status is InvocationStatus.PendingApproval or InvocationStatus.Running
                    ? TypedResults.Json(dto, statusCode: StatusCodes.Status202Accepted)
                    : TypedResults.Ok(dto);
        }
    }

    private static Dictionary<string, object?> Coded(string code)
    {
        var extensions = new Dictionary<string, object?> { ["code"] = code };
        if (InvocationErrors.Retryable(code) is { } retryable)
        {
            extensions["retryable"] = retryable;
        }

        return extensions;
    }

    /// <summary>The tenant's latest invocations, newest first: the audit log the dashboard shows.</summary>
    public static async Task<Results<Ok<InvocationDto[]>, ValidationProblem>> ListInvocations(HttpContext context, InvocationStore invocations, int? limit)
    {
        if (!Paging.TryTake(limit, out var take, out var problem))
        {
            return problem;
        }

        var rows = await invocations.ListLatestAsync(context.User.TenantId(), take, context.RequestAborted);
        return TypedResults.Ok(rows.Select(r => r.AsDto(replayed: false)).ToArray());
    }

    public static async Task<Results<Ok<InvocationDto>, NotFound>> GetInvocation(Guid id, HttpContext context, InvocationStore invocations) =>
        await invocations.FindAsync(context.User.TenantId(), id) is { } row ? TypedResults.Ok(row.AsDto(replayed: false)) : TypedResults.NotFound();
}
