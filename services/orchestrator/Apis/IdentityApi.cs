using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Apis;

public static class IdentityApi
{
    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/me", WhoAmI).WithTags("Identity");
        return app;
    }

    /// <summary>Which tenant, key and scopes the presented key stands for.</summary>
    public static Ok<IdentityDto> WhoAmI(HttpContext context) =>
        TypedResults.Ok(new IdentityDto(
            context.User.TenantId(),
            context.User.KeyId(),
            context.User.FindAll(ApiKeyAuthenticationHandler.ScopeClaim).Select(c => c.Value).ToArray()));
}

public sealed record IdentityDto(string TenantId, string KeyId, string[] Scopes);
