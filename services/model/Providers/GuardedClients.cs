using System.Collections.Concurrent;
using Platform.ServiceDefaults.Caching;
using Platform.ServiceDefaults.Net;

namespace Platform.Model.Providers;

/// <summary>
/// One pooled HTTP client per tenant whose every connection passes the <see cref="OutboundGuard"/> with that tenant's
/// outbound policy (its allowlist and the operator's private grants). The policy is read through a two-second cache, so
/// a change reaches the gateway within that; the pool made under the old policy is then replaced, and disposed once requests that already hold it have had time to finish.
/// A pool per request would cost a connection per request; one pool for all tenants would share their connections.
/// </summary>
public sealed class GuardedClients(HttpAllowlistIndex policies, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan RetiredPoolGrace = TimeSpan.FromMinutes(2);
    private readonly ExpiringCache<string, OutboundPolicy> _policies = new(time, TimeSpan.FromSeconds(2));
    private readonly ConcurrentDictionary<string, Pool> _pools = new(StringComparer.Ordinal);

    public async ValueTask<HttpMessageInvoker> ForTenantAsync(string tenantId)
    {
        var policy = await _policies.GetOrLoadAsync(tenantId, policies.PolicyAsync);
        while (true)
        {
            if (_pools.TryGetValue(tenantId, out var current))
            {
                if (current.Version == policy.Version)
                {
                    return current.Client;
                }

                var replacement = Pool.For(policy);
                if (_pools.TryUpdate(tenantId, replacement, current))
                {
                    Retire(current);
                    return replacement.Client;
                }

                replacement.Client.Dispose();
            }
            else
            {
                var created = Pool.For(policy);
                if (_pools.TryAdd(tenantId, created))
                {
                    return created.Client;
                }

                created.Client.Dispose();
            }
        }
    }

    /// <summary>Disposing a pool closes its idle connections at once; those still carrying a response close when it ends.</summary>
    private void Retire(Pool pool) =>
        _ = Task.Delay(RetiredPoolGrace, time).ContinueWith(_ => pool.Client.Dispose(), TaskScheduler.Default);

    public void Dispose()
    {
        foreach (var pool in _pools.Values)
        {
            pool.Client.Dispose();
        }
    }

    private sealed record Pool(string Version, HttpMessageInvoker Client)
    {
        public static Pool For(OutboundPolicy policy)
        {
            var handler = OutboundGuard.CreateHandler(policy);
            handler.PooledConnectionLifetime = TimeSpan.FromMinutes(2);
            handler.MaxConnectionsPerServer = 1024;
            return new Pool(policy.Version, new HttpMessageInvoker(handler));
        }
    }
}
