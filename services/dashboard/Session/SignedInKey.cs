using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Dashboard.Session;

/// <summary>The signed-in operator's key and tenant, for the request or circuit (scoped), from its principal.</summary>
public sealed class SignedInKey(AuthenticationStateProvider authentication)
{
    public async Task<ClaimsPrincipal> UserAsync() => (await authentication.GetAuthenticationStateAsync()).User;

    public async Task<string> KeyAsync() =>
        (await UserAsync()).FindFirstValue(ApiKeyClaimsTransformation.KeyClaim) ?? throw new InvalidOperationException("Not signed in.");

    /// <summary>The tenant the views show: the one a platform admin switched to, else the key's own.</summary>
    public async Task<string?> TenantAsync()
    {
        var user = await UserAsync();
        return user.FindFirstValue(ApiKeyClaimsTransformation.ActingTenantClaim) ?? user.FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim);
    }

    public async Task<bool> IsPlatformAdminAsync() => (await UserAsync()).IsPlatformAdmin();

    /// <summary>
    /// Signs a call to a service with the operator's key and, unless <paramref name="asKeyTenant"/>, as the tenant a
    /// platform admin switched to (calls about every tenant, such as listing them, go as the key's own).
    /// </summary>
    public async Task AuthorizeAsync(HttpRequestMessage request, bool asKeyTenant = false)
    {
        var user = await UserAsync();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer",
            user.FindFirstValue(ApiKeyClaimsTransformation.KeyClaim) ?? throw new InvalidOperationException("Not signed in."));
        if (!asKeyTenant && user.FindFirstValue(ApiKeyClaimsTransformation.ActingTenantClaim) is { } tenant)
        {
            request.Headers.Add(ApiKeyAuthenticationHandler.TenantHeader, tenant);
        }
    }
}
