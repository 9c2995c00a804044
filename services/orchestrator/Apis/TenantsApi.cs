using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Orchestrator.Tenants;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Orchestrator.Apis;

public static partial class TenantsApi
{
    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tenants").WithTags("Tenants").RequireScope(Scopes.Admin);

        api.MapPost("/", CreateTenant);
        api.MapGet("/", ListTenants);
        api.MapGet("/{tenantId}", GetTenant);
        api.MapPost("/{tenantId}/deactivate", DeactivateTenant);
        api.MapPost("/{tenantId}/activate", ActivateTenant);
        api.MapDelete("/{tenantId}", DeleteTenant);

        return app;
    }

    public static async Task<Results<Created<TenantDto>, ValidationProblem, ProblemHttpResult, ForbidHttpResult>> CreateTenant(
        CreateTenantRequest request, HttpContext context, TenantStore tenants, ActiveTenants activeTenants)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Forbid();
        }

        var errors = new Dictionary<string, string[]>();
        if (request.Id is null || !TenantIdPattern().IsMatch(request.Id))
        {
            errors["id"] = ["A tenant id is 2 to 40 lower-case letters, digits or dashes, starting with a letter or digit."];
        }

        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            errors["name"] = ["A name is required (at most 200 characters)."];
        }

        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        var tenant = await tenants.CreateAsync(request.Id!, request.Name!.Trim());
        if (tenant is null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant exists",
                detail: $"A tenant '{request.Id}' already exists (deleted tenants keep their id).");
        }

        await activeTenants.AddAsync(tenant.Id);
        return TypedResults.Created($"/v1/tenants/{tenant.Id}", tenant.AsDto());
    }

    public static async Task<Results<Ok<TenantDto[]>, ForbidHttpResult>> ListTenants(HttpContext context, TenantStore tenants)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Forbid();
        }

        return TypedResults.Ok((await tenants.ListAsync()).Select(t => t.AsDto()).ToArray());
    }

    /// <summary>Revokes every key of the tenant at once; it stays visible to platform admins, who may activate it again.</summary>
    public static async Task<Results<Ok<TenantDto>, NotFound, ProblemHttpResult>> DeactivateTenant(string tenantId, HttpContext context, TenantLifecycle lifecycle)
    {
        if (Refusal(tenantId, context) is { } refusal)
        {
            return refusal;
        }

        var (tenant, _) = await lifecycle.DeactivateAsync(tenantId);
        return tenant is null ? TypedResults.NotFound() : TypedResults.Ok(tenant.AsDto());
    }

    public static async Task<Results<Ok<TenantDto>, NotFound, ProblemHttpResult>> ActivateTenant(string tenantId, HttpContext context, TenantLifecycle lifecycle)
    {
        if (Refusal(tenantId, context) is { } refusal)
        {
            return refusal;
        }

        return await lifecycle.ActivateAsync(tenantId) is { } tenant ? TypedResults.Ok(tenant.AsDto()) : TypedResults.NotFound();
    }

    /// <summary>Revokes every key at once; every service purges the tenant's data after the retention (days, default 30).</summary>
    public static async Task<Results<Accepted<TenantDto>, NotFound, ProblemHttpResult>> DeleteTenant(
        string tenantId, int? retentionDays, HttpContext context, TenantLifecycle lifecycle)
    {
        if (Refusal(tenantId, context) is { } refusal)
        {
            return refusal;
        }

        if (retentionDays is < 0 or > 3650)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid retention",
                detail: "retentionDays is between 0 (purge now) and 3650.", extensions: new Dictionary<string, object?> { ["field"] = "retentionDays" });
        }

        var (tenant, _) = await lifecycle.DeleteAsync(tenantId, retentionDays is { } days ? TimeSpan.FromDays(days) : null);
        return tenant is null ? TypedResults.NotFound() : TypedResults.Accepted($"/v1/tenants/{tenantId}", tenant.AsDto());
    }

    /// <summary>Only platform admins change a tenant's state, and never the system tenant's.</summary>
    private static ProblemHttpResult? Refusal(string tenantId, HttpContext context) =>
        !context.User.IsPlatformAdmin()
            ? TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "Only platform admins deactivate or delete tenants.")
            : tenantId == ApiKeys.SystemTenant
                ? TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "System tenant", detail: "The system tenant cannot be deactivated or deleted.")
                : null;

    public static async Task<Results<Ok<TenantDto>, NotFound>> GetTenant(string tenantId, HttpContext context, TenantStore tenants)
    {
        if (!context.User.CanManage(tenantId) || await tenants.FindAsync(tenantId) is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(tenant.AsDto());
    }

    /// <summary>Platform admins manage every tenant; a tenant's admins manage their own. Others see nothing.</summary>
    internal static bool CanManage(this System.Security.Claims.ClaimsPrincipal user, string tenantId) =>
        user.IsPlatformAdmin() || (user.HasScope(Scopes.Admin) && user.TenantId() == tenantId);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,39}$")]
    private static partial Regex TenantIdPattern();
}

public sealed record CreateTenantRequest(string? Id, string? Name);

public sealed record TenantDto(string Id, string Name, string Status, DateTime CreatedAt, DateTime? DeactivatedAt, DateTime? DeletedAt, DateTime? PurgeAfter);

internal static class TenantMappings
{
    public static TenantDto AsDto(this TenantRow row) =>
        new(row.Id, row.Name, row.Status, row.CreatedAt, row.DeactivatedAt, row.DeletedAt, row.PurgeAfter);
}
