using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Budgets;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Model.Apis;

/// <summary>
/// Budgets (USD per day and month) for a tenant and its keys, and per-key rate limits. A tenant-wide budget is set by
/// platform admins only; a tenant's own admins set budgets and limits for its keys.
/// </summary>
public static partial class BudgetsApi
{
    private const decimal MaxUsd = 1_000_000_000m;
    private const int MaxRpm = 10_000_000;
    private const int MaxTpm = 1_000_000_000;

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
            return ValidationProblems.For(limits.Rpm is not null ? "rpm" : "tpm", "Rate limits are set per key.");
        }

        return Validate(tenantId, null, limits) is { } errors ? ValidationProblems.For(errors) : TypedResults.Ok(await budgets.PutAsync(tenantId, "", limits));
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

        return Validate(tenantId, keyId, limits) is { } errors ? ValidationProblems.For(errors) : TypedResults.Ok(await budgets.PutAsync(tenantId, keyId, limits));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteKeyBudget(string tenantId, string keyId, HttpContext context, BudgetStore budgets) =>
        CanManage(context, tenantId) && await budgets.DeleteAsync(tenantId, keyId) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static bool CanManage(HttpContext context, string tenantId) =>
        context.User.IsPlatformAdmin() || context.User.TenantId() == tenantId;

    /// <summary>Bounds that every later reservation can count in Redis integers and Postgres can store.</summary>
    private static Dictionary<string, string[]>? Validate(string tenantId, string? keyId, Limits limits)
    {
        var errors = new Dictionary<string, string[]>();
        if (!IdPattern().IsMatch(tenantId))
        {
            errors["tenantId"] = ["A tenant id is 1 to 64 letters, digits, '-' or '_'."];
        }

        if (keyId is not null && !IdPattern().IsMatch(keyId))
        {
            errors["keyId"] = ["A key id is 1 to 64 letters, digits, '-' or '_'."];
        }

        foreach (var (field, usd) in new[] { ("dailyUsd", limits.DailyUsd), ("monthlyUsd", limits.MonthlyUsd) })
        {
            if (usd is < 0 or > MaxUsd)
            {
                errors[field] = ["A budget is 0 to 1,000,000,000 US dollars."];
            }
        }

        if (limits.Rpm is < 1 or > MaxRpm)
        {
            errors["rpm"] = [$"Requests per minute are 1 to {MaxRpm:N0}."];
        }

        if (limits.Tpm is < 1 or > MaxTpm)
        {
            errors["tpm"] = [$"Tokens per minute are 1 to {MaxTpm:N0}."];
        }

        return errors.Count > 0 ? errors : null;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}\\z")]
    private static partial Regex IdPattern();
}
