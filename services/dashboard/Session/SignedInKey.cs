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

    public async Task<string?> TenantAsync() => (await UserAsync()).FindFirstValue(ApiKeyAuthenticationHandler.TenantClaim);
}
