using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Orchestrator.Tenants;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Orchestrator.Apis;

public static class ApiKeysApi
{
    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tenants/{tenantId}/keys").WithTags("API keys").RequireScope(Scopes.Admin);

        api.MapPost("/", IssueKey);
        api.MapGet("/", ListKeys);
        api.MapDelete("/{keyId:guid}", RevokeKey);

        return app;
    }

    public static async Task<Results<Created<IssuedApiKeyDto>, ValidationProblem, NotFound, ProblemHttpResult>> IssueKey(
        string tenantId, IssueApiKeyRequest request, HttpContext context, TenantStore tenants, ApiKeyStore keys, TimeProvider time)
    {
        if (!context.User.CanManage(tenantId) || await tenants.FindAsync(tenantId) is not { } tenant)
        {
            return TypedResults.NotFound();
        }

        if (tenant.Status != "active")
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Tenant not active",
                detail: $"Tenant '{tenantId}' is {tenant.Status}: it gets no keys.");
        }

        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 200)
        {
            errors["name"] = ["A name is required (at most 200 characters)."];
        }

        if (request.Scopes is not { Length: > 0 } || request.Scopes.Any(s => !Scopes.All.Contains(s)))
        {
            errors["scopes"] = [$"At least one scope, each one of: {string.Join(", ", Scopes.All)}."];
        }

        if (request.ExpiresAt is { } expiresAt && expiresAt <= time.GetUtcNow())
        {
            errors["expiresAt"] = ["The expiry must be in the future."];
        }

        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        var key = ApiKeys.Generate();
        var row = await keys.CreateAsync(tenantId, request.Name!.Trim(), key, request.Scopes!.Distinct().ToArray(),
            request.ExpiresAt?.UtcDateTime, Guid.TryParse(context.User.KeyId(), out var creator) ? creator : null);
        return TypedResults.Created($"/v1/tenants/{tenantId}/keys/{row.Id}", new IssuedApiKeyDto(key, row.AsDto()));
    }

    public static async Task<Results<Ok<ApiKeyDto[]>, NotFound>> ListKeys(string tenantId, HttpContext context, ApiKeyStore keys)
    {
        if (!context.User.CanManage(tenantId))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok((await keys.ListAsync(tenantId)).Select(k => k.AsDto()).ToArray());
    }

    public static async Task<Results<NoContent, NotFound>> RevokeKey(string tenantId, Guid keyId, HttpContext context, ApiKeyStore keys)
    {
        if (!context.User.CanManage(tenantId) || !await keys.RevokeAsync(tenantId, keyId))
        {
            return TypedResults.NotFound();
        }

        return TypedResults.NoContent();
    }
}

public sealed record IssueApiKeyRequest(string? Name, string[]? Scopes, DateTimeOffset? ExpiresAt);

/// <summary>The only response that ever contains the key itself.</summary>
public sealed record IssuedApiKeyDto(string Key, ApiKeyDto ApiKey);

public sealed record ApiKeyDto(
    Guid Id, string TenantId, string Name, string Prefix, string[] Scopes, bool Bootstrap, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt);

internal static class ApiKeyMappings
{
    public static ApiKeyDto AsDto(this ApiKeyRow row) =>
        new(row.Id, row.TenantId, row.Name, row.KeyPrefix, row.Scopes, row.IsBootstrap, row.CreatedAt, row.ExpiresAt, row.RevokedAt);
}
