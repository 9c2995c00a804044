using System.Security.Cryptography;
using Platform.Model.Catalog;
using Platform.ServiceDefaults.Net;
using Platform.ServiceDefaults.Security;
using StackExchange.Redis;

namespace Platform.Model.Providers;

/// <summary>
/// The gateway's own HTTP client for upstreams. It deliberately bypasses the standard resilience handler: the router
/// owns retries, timeouts and fallbacks for model calls, and a retry must never repeat a started stream. Platform-wide
/// deployments from configuration are trusted and share one pool; a tenant's go through that tenant's guarded pool.
/// </summary>
public sealed class UpstreamHttp(GuardedClients guarded, SecretProtector secrets) : IDisposable
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
            var client = deployment.TenantId is { } tenantId ? await GuardedAsync(tenantId, deployment) : _trusted;
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

    /// <summary>Without the tenant's allowlist nothing is sent: the deployment fails, the upstream is not blamed.</summary>
    private async ValueTask<HttpMessageInvoker> GuardedAsync(string tenantId, ModelDeployment deployment)
    {
        try
        {
            return await guarded.ForTenantAsync(tenantId);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            throw new UpstreamException($"{deployment.Name} was not called: the tenant's HTTP allowlist cannot be read ({e.Message})", UpstreamFailure.Deployment, inner: e);
        }
    }

    /// <summary>
    /// The deployment's provider key in plaintext, for the request about to go upstream: a tenant's is decrypted only
    /// here. One stored before keys were encrypted, or under a key being rotated out, reads as it will once the
    /// re-encryption at start has rewritten it.
    /// </summary>
    public string? ApiKey(ModelDeployment deployment)
    {
        if (deployment.TenantId is null || deployment.ApiKey is not { } stored)
        {
            return deployment.ApiKey;
        }

        try
        {
            return secrets.Unprotect(secrets.NeedsReprotecting(stored) ? secrets.Reprotect(stored) : stored);
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            throw new UpstreamException($"{deployment.Name}'s API key cannot be decrypted with the current secrets key; set it again", UpstreamFailure.Deployment, inner: e);
        }
    }

    public void Dispose() => _trusted.Dispose();
}
