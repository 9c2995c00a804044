using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Dashboard.Session;

/// <summary>
/// Keeps the verified key in the principal, so that an interactive circuit (opened with this principal, and without an
/// HttpContext afterwards) can call the services with it. The principal never leaves the server.
/// </summary>
public sealed class ApiKeyClaimsTransformation(IHttpContextAccessor accessor) : IClaimsTransformation
{
    public const string KeyClaim = "dashboard.api_key";

    /// <summary>The tenant a platform admin switched to (<see cref="TenantCookie"/>); the services check it again on every call.</summary>
    public const string ActingTenantClaim = "dashboard.acting_tenant";

    public const string TenantCookie = "platform_tenant";

    public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true || principal.HasClaim(c => c.Type == KeyClaim) || accessor.HttpContext is not { } context)
        {
            return Task.FromResult(principal);
        }

        var header = context.Request.Headers.Authorization.ToString();
        var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? header[7..].Trim()
            : context.Request.Cookies[ApiKeyAuthenticationHandler.CookieName];
        if (string.IsNullOrEmpty(key))
        {
            return Task.FromResult(principal);
        }

        var identity = new ClaimsIdentity(principal.Identity);
        identity.AddClaim(new Claim(KeyClaim, key));
        if (principal.IsPlatformAdmin() && context.Request.Cookies[TenantCookie] is { Length: > 0 } tenant && tenant != ApiKeys.SystemTenant)
        {
            identity.AddClaim(new Claim(ActingTenantClaim, tenant));
        }

        return Task.FromResult(new ClaimsPrincipal(identity));
    }
}
