using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Platform.ServiceDefaults.Caching;
using Platform.ServiceDefaults.Net;

namespace Platform.Model.Providers;

/// <summary>
/// One pooled HTTP client per tenant whose every connection passes the <see cref="OutboundGuard"/> with that tenant's
/// allowlist. The allowlist is read through a two-second cache, so a change reaches the gateway within that; the pool
/// made under the old list is then replaced, and disposed once requests that already hold it have had time to finish.
/// A pool per request would cost a connection per request; one pool for all tenants would share their connections.
/// </summary>
public sealed class GuardedClients(HttpAllowlistIndex allowlists, TimeProvider time) : IDisposable
{
    private static readonly TimeSpan RetiredPoolGrace = TimeSpan.FromMinutes(2);
    private readonly ExpiringCache<string, Allowlist> _allowlists = new(time, TimeSpan.FromSeconds(2));
    private readonly ConcurrentDictionary<string, Pool> _pools = new(StringComparer.Ordinal);

    public async ValueTask<HttpMessageInvoker> ForTenantAsync(string tenantId)
    {
        var allowlist = await _allowlists.GetOrLoadAsync(tenantId, async id => Allowlist.From(await allowlists.HostsAsync(id)));
        while (true)
        {
            if (_pools.TryGetValue(tenantId, out var current))
            {
                if (current.Version == allowlist.Version)
                {
                    return current.Client;
                }

                var replacement = Pool.For(allowlist);
                if (_pools.TryUpdate(tenantId, replacement, current))
                {
                    Retire(current);
                    return replacement.Client;
                }

                replacement.Client.Dispose();
            }
            else
            {
                var created = Pool.For(allowlist);
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

    private sealed record Allowlist(IReadOnlySet<string> Hosts, string Version)
    {
        public static Allowlist From(IReadOnlySet<string> hosts) => new(hosts, Convert.ToHexStringLower(SHA256.HashData(
            Encoding.UTF8.GetBytes(string.Join('\n', hosts.Select(h => h.ToLowerInvariant()).Order(StringComparer.Ordinal))))));
    }

    private sealed record Pool(string Version, HttpMessageInvoker Client)
    {
        public static Pool For(Allowlist allowlist)
        {
            var handler = OutboundGuard.CreateHandler(allowlist.Hosts);
            handler.PooledConnectionLifetime = TimeSpan.FromMinutes(2);
            handler.MaxConnectionsPerServer = 1024;
            return new Pool(allowlist.Version, new HttpMessageInvoker(handler));
        }
    }
}
