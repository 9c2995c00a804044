using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Authentication;

public static class AuthenticationExtensions
{
    /// <summary>
    /// API-key authentication on every endpoint: the fallback policy requires a verified key, so an endpoint is public
    /// only when it says <c>AllowAnonymous()</c> (health, OpenAPI). One policy per scope.
    /// </summary>
    public static IHostApplicationBuilder AddApiKeyAuthentication(this IHostApplicationBuilder builder, Action<ApiKeyAuthenticationOptions>? configure = null)
    {
        builder.Services.AddOptions<ApiKeyCacheOptions>().BindConfiguration("Authentication:ApiKeys");
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ApiKeyIndex>();
        builder.Services.AddSingleton<ApiKeyVerifier>();
        builder.Services.AddSingleton<ActiveTenants>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddTransient<ApiKeyPropagationHandler>();
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<ApiKeyAuthenticationOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, configure ?? (_ => { }));
        builder.Services.AddAuthorization(options =>
        {
            options.FallbackPolicy = new AuthorizationPolicyBuilder(ApiKeyAuthenticationHandler.SchemeName).RequireAuthenticatedUser().Build();
            foreach (var scope in Scopes.All)
            {
                options.AddPolicy(scope, policy => policy
                    .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
                    .RequireAuthenticatedUser()
                    .RequireAssertion(context => context.User.HasScope(scope)));
            }
        });
        return builder;
    }

    /// <summary>Calls to other services carry the caller's own API key, so they act as the originating tenant and no other.</summary>
    public static IHttpClientBuilder AddApiKeyPropagation(this IHttpClientBuilder builder) =>
        builder.AddHttpMessageHandler<ApiKeyPropagationHandler>();

    /// <summary>Requires a key with <paramref name="scope"/> (or admin) on every endpoint of the group.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(scope);

    /// <summary>Requires a key with any one of <paramref name="scopes"/> (or admin) on every endpoint of the group.</summary>
    public static TBuilder RequireAnyScope<TBuilder>(this TBuilder builder, params string[] scopes) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(policy => policy
            .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireAssertion(context => scopes.Any(scope => context.User.HasScope(scope))));

    public static string TenantId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim) ?? throw new InvalidOperationException("The request is not authenticated.");

    public static string KeyId(this ClaimsPrincipal user) =>
        user.FindFirstValue(ApiKeyAuthenticationHandler.KeyIdClaim) ?? throw new InvalidOperationException("The request is not authenticated.");

    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.HasClaim(ApiKeyAuthenticationHandler.ScopeClaim, scope) || user.HasClaim(ApiKeyAuthenticationHandler.ScopeClaim, Scopes.Admin);

    /// <summary>
    /// A platform admin, whether for the system tenant or acting as another (<c>Platform-Tenant</c>): decides what only
    /// the operator may decide for a tenant, such as reaching private addresses.
    /// </summary>
    public static bool IsPlatformOperator(this ClaimsPrincipal user) =>
        user.HasClaim(ApiKeyAuthenticationHandler.ScopeClaim, Scopes.Admin)
        && (user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim) == ApiKeys.SystemTenant
            || user.FindFirstValue(ApiKeyAuthenticationHandler.ActingForClaim) == ApiKeys.SystemTenant);

    /// <summary>A key of the system tenant with the metrics scope (or admin): metrics span every tenant.</summary>
    public static bool CanReadMetrics(this ClaimsPrincipal user) =>
        user.HasScope(Scopes.Metrics) && user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim) == ApiKeys.SystemTenant;

    /// <summary>An admin of the system tenant: may manage every tenant.</summary>
    public static bool IsPlatformAdmin(this ClaimsPrincipal user) =>
        user.HasClaim(ApiKeyAuthenticationHandler.ScopeClaim, Scopes.Admin)
        && user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim) == ApiKeys.SystemTenant;
}
