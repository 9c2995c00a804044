using Platform.Model.Catalog;
using Platform.ServiceDefaults.Net;

namespace Platform.Model.Providers;

/// <summary>
/// The gateway's own HTTP client for upstreams. It deliberately bypasses the standard resilience handler: the router
/// owns retries, timeouts and fallbacks for model calls, and a retry must never repeat a started stream. Platform-wide
/// deployments from configuration are trusted and share one pool; a tenant's go through that tenant's guarded pool.
/// </summary>
public sealed class UpstreamHttp(GuardedClients guarded) : IDisposable
{
    private readonly HttpMessageInvoker _trusted = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        MaxConnectionsPerServer = 1024,
    });

    /// <summary>Sends and returns once headers arrive; a non-success status becomes an <see cref="UpstreamException"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, ModelDeployment deployment, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            var client = deployment.TenantId is { } tenantId ? await guarded.ForTenantAsync(tenantId) : _trusted;
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e) when (e.InnerException is BlockedRequestException blocked)
        {
            throw new UpstreamException($"{deployment.Name}'s address is refused: {blocked.Message}", UpstreamFailure.Refused, inner: e);
        }
        catch (HttpRequestException e)
        {
            throw new UpstreamException($"{deployment.Name} is unreachable: {e.Message}", UpstreamFailure.Transient, inner: e);
        }
        finally
        {
            request.Dispose();
        }

        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            throw await UpstreamException.FromResponseAsync(response, deployment.Name, cancellationToken);
        }
    }

    public void Dispose() => _trusted.Dispose();
}
