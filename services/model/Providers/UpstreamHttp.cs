namespace Platform.Model.Providers;

/// <summary>
/// The gateway's own HTTP client for upstreams. It deliberately bypasses the standard resilience handler: the router
/// owns retries, timeouts and fallbacks for model calls, and a retry must never repeat a started stream.
/// </summary>
public sealed class UpstreamHttp : IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(10),
        MaxConnectionsPerServer = 1024,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Sends and returns once headers arrive; a non-success status becomes an <see cref="UpstreamException"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, Catalog.ModelDeployment deployment, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
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

    public void Dispose() => _client.Dispose();
}
