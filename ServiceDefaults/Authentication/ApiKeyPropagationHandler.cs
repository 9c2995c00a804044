using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Platform.ServiceDefaults.Authentication;

/// <summary>
/// Carries the caller's own key onto calls to other Platform services. A service never mints credentials of its own,
/// so a downstream service sees exactly the originating tenant and scopes, and no path lets one tenant act as another.
/// A platform admin acting as a tenant carries that choice on too. Only hosts named in service discovery (<c>services:{name}</c>) get the key: it never leaves for a third party.
/// </summary>
internal sealed class ApiKeyPropagationHandler(IHttpContextAccessor accessor, IConfiguration configuration) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null
            && request.RequestUri is { IsAbsoluteUri: true } uri
            && configuration.GetSection($"services:{uri.Host}").Exists()
            && accessor.HttpContext?.Items[ApiKeyAuthenticationHandler.PresentedKeyItem] is string key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            if (accessor.HttpContext.Items[ApiKeyAuthenticationHandler.ActingTenantItem] is string actingTenant)
            {
                request.Headers.Add(ApiKeyAuthenticationHandler.TenantHeader, actingTenant);
            }
        }

        return base.SendAsync(request, cancellationToken);
    }
}
