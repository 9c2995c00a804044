using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;

namespace Platform.ServiceDefaults.Authentication;

/// <summary>
/// Carries the caller's own key onto calls to other services. A service never mints credentials of its own, so a
/// downstream service sees exactly the originating tenant and scopes, and no path lets one tenant act as another.
/// </summary>
internal sealed class ApiKeyPropagationHandler(IHttpContextAccessor accessor) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Headers.Authorization is null
            && accessor.HttpContext?.Items[ApiKeyAuthenticationHandler.PresentedKeyItem] is string key)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
