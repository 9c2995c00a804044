using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Budgets;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Model.Apis;

/// <summary>
/// Budgets (USD per day and month) for a tenant and its keys, and per-key rate limits. A tenant-wide budget is set by
/// platform admins only; a tenant's own admins set budgets and limits for its keys.
/// </summary>
public static class BudgetsApi
{
    public static IEndpointRouteBuilder MapBudgetsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/budgets/tenants/{tenantId}").WithTags("Budgets").RequireScope(Scopes.Admin);

        api.MapGet("/", ListBudgets);
        api.MapPut("/", PutTenantBudget);
        api.MapDelete("/", DeleteTenantBudget);
        api.MapPut("/keys/{keyId}", PutKeyBudget);
        api.MapDelete("/keys/{keyId}", DeleteKeyBudget);

        return app;
    }

    public static async Task<Results<Ok<BudgetRow[]>, NotFound>> ListBudgets(string tenantId, HttpContext context, BudgetStore budgets) =>
        CanManage(context, tenantId) ? TypedResults.Ok((await budgets.ListAsync(tenantId)).ToArray()) : TypedResults.NotFound();

    public static async Task<Results<Ok<BudgetRow>, ValidationProblem, ForbidHttpResult>> PutTenantBudget(
        string tenantId, Limits limits, HttpContext context, BudgetStore budgets)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Forbid();
        }

        if (limits.Rpm is not null || limits.Tpm is not null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["rpm"] = ["Rate limits are set per key."] });
        }

        return Validate(limits) is { } errors ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(await budgets.PutAsync(tenantId, "", limits));
    }

    public static async Task<Results<NoContent, NotFound, ForbidHttpResult>> DeleteTenantBudget(string tenantId, HttpContext context, BudgetStore budgets)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Forbid();
        }

        return await budgets.DeleteAsync(tenantId, "") ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    public static async Task<Results<Ok<BudgetRow>, ValidationProblem, NotFound>> PutKeyBudget(
        string tenantId, string keyId, Limits limits, HttpContext context, BudgetStore budgets)
    {
        if (!CanManage(context, tenantId))
        {
            return TypedResults.NotFound();
        }

        return Validate(limits) is { } errors ? TypedResults.ValidationProblem(errors) : TypedResults.Ok(await budgets.PutAsync(tenantId, keyId, limits));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteKeyBudget(string tenantId, string keyId, HttpContext context, BudgetStore budgets) =>
        CanManage(context, tenantId) && await budgets.DeleteAsync(tenantId, keyId) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static bool CanManage(HttpContext context, string tenantId) =>
        context.User.IsPlatformAdmin() || context.User.TenantId() == tenantId;

    private static Dictionary<string, string[]>? Validate(Limits limits)
    {
        var errors = new Dictionary<string, string[]>();
        if (limits.DailyUsd is < 0 || limits.MonthlyUsd is < 0)
        {
            errors["dailyUsd"] = ["Budgets are zero or more US dollars."];
        }

        if (limits.Rpm is <= 0 || limits.Tpm is <= 0)
        {
            errors["rpm"] = ["Rate limits are positive."];
        }

        return errors.Count > 0 ? errors : null;
    }
}
