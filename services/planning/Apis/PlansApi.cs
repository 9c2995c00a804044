using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Planning.Plans;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Data;

namespace Platform.Planning.Apis;

public static class PlansApi
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(10);

    public static IEndpointRouteBuilder MapPlansApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/plans").WithTags("Plans").RequireScope(Scopes.Plans);

        api.MapPost("/", CreatePlan);
        api.MapGet("/", ListPlans);
        api.MapGet("/{planId:guid}", GetPlan);

        return app;
    }

    /// <summary>Validates a plan as an executable DAG, orders it into parallel layers and stores it.</summary>
    public static async Task<Results<Created<PlanDto>, ValidationProblem>> CreatePlan(PlanRequest request, HttpContext context, PlanStore plans)
    {
        var (layers, errors) = PlanValidator.Validate(request);
        if (layers is null)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var plan = await plans.CreateAsync(context.User.TenantId(), request, layers);
        return TypedResults.Created($"/v1/plans/{plan.Id}", plan);
    }

    public static async Task<Results<Ok<IReadOnlyList<PlanDto>>, ValidationProblem>> ListPlans(HttpContext context, PlanStore plans, int? limit)
    {
        if (limit is < 1 or > 200)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["limit"] = ["The limit is 1 to 200."] });
        }

        return TypedResults.Ok(await plans.ListAsync(context.User.TenantId(), limit ?? 50));
    }

    /// <summary>Plans never change once stored, so reads are cached in Redis, keyed by tenant.</summary>
    public static async Task<Results<Ok<PlanDto>, NotFound>> GetPlan(Guid planId, HttpContext context, PlanStore plans, RedisJsonCache cache)
    {
        var tenantId = context.User.TenantId();
        var plan = await cache.GetOrCreateAsync($"planning:plan:{tenantId}:{planId}", CacheLifetime, () => plans.FindAsync(tenantId, planId));
        return plan is null ? TypedResults.NotFound() : TypedResults.Ok(plan);
    }
}
