using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Planning.Planner;
using Platform.Planning.Plans;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Planning.Apis;

public static class PlansApi
{
    public static IEndpointRouteBuilder MapPlansApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/plans").WithTags("Plans").RequireScope(Scopes.Plans);

        api.MapPost("/", CreatePlan);
        api.MapGet("/", ListPlans);
        api.MapGet("/{planId:guid}", GetPlan);

        return app;
    }

    /// <summary>
    /// Makes a plan for a goal (the LLM planner) or checks the caller's steps (manual), costs it, and stores it as
    /// revision 1. Nothing is stored unless the whole plan is valid. A repeated <c>Idempotency-Key</c> answers the plan
    /// it made (200, <c>Idempotent-Replayed: true</c>); the same key with another goal is a 409.
    /// </summary>
    public static async Task<Results<Created<PlanDto>, Ok<PlanDto>, ValidationProblem, ProblemHttpResult>> CreatePlan(
        CreatePlanRequest request, HttpContext context, PlanningService planning)
    {
        if (!IdempotencyKeys.TryRead(context.Request.Headers, out var idempotencyKey))
        {
            return IdempotencyKeys.Problem();
        }

        var clock = PlanningResults.StartClock(context);
        try
        {
            var (plan, created) = await planning.CreateAsync(context.User, request, idempotencyKey, clock, context.RequestAborted);
            return created ? TypedResults.Created($"/v1/plans/{plan.Id}", plan) : PlanningResults.Replayed(plan, context);
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

    /// <summary>The tenant's plans at their latest revisions, newest first; <c>before</c> (a plan id) pages on.</summary>
    public static async Task<Results<Ok<IReadOnlyList<PlanDto>>, ValidationProblem>> ListPlans(HttpContext context, PlanStore plans, int? limit, Guid? before)
    {
        if (!Paging.TryTake(limit, out var take, out var problem))
        {
            return problem;
        }

        return TypedResults.Ok(await plans.ListAsync(context.User.TenantId(), take, before, context.RequestAborted));
    }

    /// <summary>The plan at its latest revision.</summary>
    public static async Task<Results<Ok<PlanDto>, NotFound>> GetPlan(Guid planId, HttpContext context, PlanStore plans) =>
        await plans.FindAsync(context.User.TenantId(), planId, context.RequestAborted) is { } plan ? TypedResults.Ok(plan) : TypedResults.NotFound();
}
