using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Platform.ServiceDefaults.Net;

/// <summary>
/// Server-side request forgery guard for outbound HTTP to addresses a tenant chose (HTTP tools, MCP servers, model
/// provider base URLs, webhooks). Each connection, the first and every redirect's, is checked when it is made, after
/// DNS resolution, and made to exactly the addresses checked: loopback, private, link-local (cloud metadata included),
/// shared and unspecified addresses are refused unless the platform operator granted the host to the tenant, and a
/// tenant with an allowlist reaches only those hosts. No proxy is used, so the address checked is the target's.
/// </summary>
public static class OutboundGuard
{
    private static readonly string[] InternalSuffixes =
        [".localhost", ".local", ".internal", ".localdomain", ".lan", ".home.arpa", ".intranet", ".corp", ".svc", ".cluster.local"];

    /// <summary>A handler whose every connection passes the guard; connections are this handler's own.</summary>
    public static SocketsHttpHandler CreateHandler(OutboundPolicy policy) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        // With a proxy (HTTP_PROXY, HTTPS_PROXY), the connection checked would be the proxy's, not the target's.
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = (context, token) => ConnectAsync(context.DnsEndPoint, policy, token),
    };

    /// <summary>
    /// A host a tenant may not list itself: an address the guard refuses, or a name only an internal resolver answers
    /// (<c>localhost</c>, a single label such as <c>postgres</c>, <c>.local</c>, <c>.internal</c>, a cluster's <c>.svc</c>).
    /// </summary>
    public static bool IsInternalHost(string host)
    {
        host = host.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (IPAddress.TryParse(host, out var address))
        {
            return IsForbidden(address);
        }

        return !host.Contains('.', StringComparison.Ordinal) || InternalSuffixes.Any(suffix => host == suffix[1..] || host.EndsWith(suffix, StringComparison.Ordinal));
    }

    public static bool IsForbidden(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var bytes = address.GetAddressBytes();
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (bytes[0] & 0xfe) == 0xfc;
        }

        var b = address.GetAddressBytes();
        return b[0] is 0 or 10 or 127 || b[0] >= 224
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 172 && b[1] is >= 16 and <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 100 && b[1] is >= 64 and <= 127)
            || (b[0] == 192 && b[1] == 0 && b[2] == 0);
    }

    /// <summary>The <see cref="HttpUrl"/> rule's scheme and host, checked again on every hop.</summary>
    public static void CheckScheme(Uri url)
    {
        if (!HttpUrl.IsHttp(url))
        {
            throw new BlockedRequestException($"Only absolute http and https URLs are allowed, not '{url}'.");
        }
    }

    /// <summary>
    /// Where a redirect from <paramref name="from"/> leads: never from https down to http, where what the request carries
    /// would travel in the clear.
    /// </summary>
    public static Uri Redirect(Uri from, Uri location)
    {
        var next = location.IsAbsoluteUri ? location : new Uri(from, location);
        CheckScheme(next);
        return from.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp
            ? throw new BlockedRequestException($"Refused a redirect from https to http ('{next.GetLeftPart(UriPartial.Path)}').")
            : next;
    }

    /// <summary>Scheme, host and port alike: the caller's own headers (credentials among them) go to this origin only.</summary>
    public static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.GetLeftPart(UriPartial.Authority), b.GetLeftPart(UriPartial.Authority), StringComparison.OrdinalIgnoreCase);

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, OutboundPolicy policy, CancellationToken cancellationToken)
    {
        var host = endpoint.Host.Trim('[', ']').ToLowerInvariant();
        if (!policy.IsAllowed(host, endpoint.Port))
        {
            throw new BlockedRequestException($"'{host}' is not on this tenant's HTTP allowlist.");
        }

        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new BlockedRequestException($"'{host}' does not resolve.");
        }

        if (!policy.IsGranted(host, endpoint.Port) && addresses.FirstOrDefault(IsForbidden) is { } forbidden)
        {
            throw new BlockedRequestException(
                $"'{host}' resolves to {forbidden}, a private, loopback or link-local address; only the platform operator can grant a tenant such a destination.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>An outbound request the guard refused or that could not complete.</summary>
public sealed class BlockedRequestException(string message) : Exception(message);
