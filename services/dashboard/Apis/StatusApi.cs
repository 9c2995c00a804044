using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Dashboard.Status;

namespace Platform.Dashboard.Apis;

public static class StatusApi
{
    public static IEndpointRouteBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/status", GetStatus).WithTags("Status");
        return app;
    }

    public static async Task<Ok<IReadOnlyList<ServiceStatusDto>>> GetStatus(ServiceStatusProbe probe, CancellationToken cancellationToken) =>
        TypedResults.Ok(await probe.ProbeAllAsync(cancellationToken));
}
