using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Dashboard.Status;

namespace Platform.Dashboard.Apis;

public static class StatusApi
{
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/status", GetStatus).WithTags("Status");
        app.MapGet("/", StatusPage).ExcludeFromDescription().AllowAnonymous();
        return app;
    }

    public static async Task<Ok<IReadOnlyList<ServiceStatusDto>>> GetStatus(ServiceStatusProbe probe, CancellationToken cancellationToken) =>
        TypedResults.Ok(await probe.ProbeAllAsync(cancellationToken));

    /// <summary>The status page; a visitor without a valid key is sent to the sign-in page.</summary>
    public static async Task<Results<ContentHttpResult, RedirectHttpResult>> StatusPage(
        HttpContext context, ServiceStatusProbe probe, CancellationToken cancellationToken)
    {
        if (context.User.Identity?.IsAuthenticated != true)
        {
            return TypedResults.Redirect("/login");
        }

        var statuses = await probe.ProbeAllAsync(cancellationToken);
        return TypedResults.Content(Pages.Status(statuses, context.User), "text/html; charset=utf-8");
    }
}
