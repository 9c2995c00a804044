using Microsoft.Extensions.Configuration;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// Configuration-based service discovery with Aspire's keys: <c>http://planning</c> resolves through
/// <c>services:planning:http:0</c>; <c>https+http://planning</c> prefers the https endpoint. A host with no entry is left
/// alone, so the same code resolves through DNS in Kubernetes.
/// </summary>
internal sealed class ServiceDiscoveryHandler(IConfiguration configuration) : DelegatingHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.RequestUri is { IsAbsoluteUri: true } uri && Resolve(uri) is { } resolved)
        {
            request.RequestUri = resolved;
        }

        return base.SendAsync(request, cancellationToken);
    }

    private Uri? Resolve(Uri uri)
    {
        var schemes = uri.Scheme.Split('+');
        foreach (var scheme in schemes)
        {
            var endpoint = configuration[$"services:{uri.Host}:{scheme}:0"];
            if (!string.IsNullOrEmpty(endpoint) && Uri.TryCreate(endpoint, UriKind.Absolute, out var baseUri))
            {
                return new UriBuilder(uri) { Scheme = baseUri.Scheme, Host = baseUri.Host, Port = baseUri.Port }.Uri;
            }
        }

        return schemes.Length > 1 ? new UriBuilder(uri) { Scheme = schemes[^1], Port = -1 }.Uri : null;
    }
}
