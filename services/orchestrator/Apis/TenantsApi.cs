using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Orchestrator.Tenants;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Apis;

public static partial class TenantsApi
{
    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tenants").WithTags("Tenants").RequireScope(Scopes.Admin);

        api.MapPost("/", CreateTenant);
        api.MapGet("/", ListTenants);
        api.MapGet("/{tenantId}", GetTenant);

        return app;
    }

    public static async Task<Results<Created<TenantDto>, ValidationProblem, Conflict<Microsoft.AspNetCore.Mvc.ProblemDetails>, ForbidHttpResult>> CreateTenant(
        CreateTenantRequest request, HttpContext context, TenantStore tenants)
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
            return TypedResults.ValidationProblem(errors);
        }

        var tenant = await tenants.CreateAsync(request.Id!, request.Name!.Trim());
        if (tenant is null)
        {
            return TypedResults.Conflict(new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Tenant exists",
                Detail = $"A tenant '{request.Id}' already exists.",
            });
        }

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

public sealed record TenantDto(string Id, string Name, DateTime CreatedAt);

internal static class TenantMappings
{
    public static TenantDto AsDto(this TenantRow row) => new(row.Id, row.Name, row.CreatedAt);
}
