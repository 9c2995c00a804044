using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Planning.Planner;
using Platform.Planning.Plans;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Data;

namespace Platform.Planning.Apis;

public static class RevisionsApi
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(10);

    public static IEndpointRouteBuilder MapRevisionsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/plans/{planId:guid}/revisions").WithTags("Plans").RequireScope(Scopes.Plans);

        api.MapGet("/", ListRevisions);
        api.MapGet("/{revision:int}", GetRevision);
        api.MapPost("/", Revise);

        return app;
    }

    public static async Task<Results<Ok<IReadOnlyList<PlanDto>>, NotFound>> ListRevisions(Guid planId, HttpContext context, PlanStore plans) =>
        await plans.RevisionsAsync(context.User.TenantId(), planId, context.RequestAborted) is { } revisions ? TypedResults.Ok(revisions) : TypedResults.NotFound();

    /// <summary>A revision never changes once stored, so reads are cached in Redis, keyed by tenant.</summary>
    public static async Task<Results<Ok<PlanDto>, NotFound>> GetRevision(Guid planId, int revision, HttpContext context, PlanStore plans, RedisJsonCache cache)
    {
        var tenantId = context.User.TenantId();
        var plan = await cache.GetOrCreateAsync($"planning:revision:{tenantId}:{planId}:{revision}", CacheLifetime,
            () => plans.RevisionAsync(tenantId, planId, revision, context.RequestAborted));
        return plan is null ? TypedResults.NotFound() : TypedResults.Ok(plan);
    }

    /// <summary>
    /// Re-plans from what ran: the completed steps stay exactly as they were, the failed step is replaced or worked
    /// around, and the new revision says which step ids were added, removed and changed. An <c>Idempotency-Key</c>
    /// works as for plans.
    /// </summary>
    public static async Task<Results<Created<PlanDto>, Ok<PlanDto>, ValidationProblem, ProblemHttpResult>> Revise(
        Guid planId, ReviseRequest request, HttpContext context, PlanningService planning)
    {
        if (!IdempotencyKeys.TryRead(context.Request.Headers, out var idempotencyKey))
        {
            return IdempotencyKeys.Problem();
        }

        var clock = PlanningResults.StartClock(context);
        try
        {
            var (plan, created) = await planning.ReviseAsync(context.User, planId, request, idempotencyKey, clock, context.RequestAborted);
            return created ? TypedResults.Created($"/v1/plans/{plan.Id}/revisions/{plan.Revision}", plan) : PlanningResults.Replayed(plan, context);
        }
        catch (PlanningProblem problem) when (problem is { Status: StatusCodes.Status400BadRequest, Errors: not null })
        {
            return problem.AsValidationProblem();
        }
        catch (PlanningProblem problem)
        {
            return problem.AsProblem(context);
        }
    }
}
