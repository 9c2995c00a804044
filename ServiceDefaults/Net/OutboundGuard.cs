using System.Net;
using System.Net.Http;
using System.Net.Sockets;

namespace Platform.ServiceDefaults.Net;

/// <summary>
/// Server-side request forgery guard for outbound HTTP to addresses a tenant chose (HTTP tools, MCP servers, model
/// provider base URLs). Each connection, the first and every redirect's, is checked when it is made, after DNS
/// resolution, and made to exactly the addresses checked: loopback, private, link-local (cloud metadata included),
/// shared and unspecified addresses are refused unless the host is on the tenant's allowlist, and a tenant with an
/// allowlist reaches only those hosts.
/// </summary>
public static class OutboundGuard
{
    /// <summary>A handler whose every connection passes the guard; connections are this handler's own.</summary>
    public static SocketsHttpHandler CreateHandler(IReadOnlySet<string> allowedHosts) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        ConnectCallback = (context, token) => ConnectAsync(context.DnsEndPoint, allowedHosts, token),
    };

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

    /// <summary>Only http and https, so no other scheme handler is reachable through a tenant's URL.</summary>
    public static void CheckScheme(Uri url)
    {
        if (!url.IsAbsoluteUri || url.Scheme is not ("http" or "https"))
        {
            throw new BlockedRequestException($"Only absolute http and https URLs are allowed, not '{url}'.");
        }
    }

    private static async ValueTask<Stream> ConnectAsync(DnsEndPoint endpoint, IReadOnlySet<string> allowed, CancellationToken cancellationToken)
    {
        var host = endpoint.Host.Trim('[', ']').ToLowerInvariant();
        var listed = allowed.Contains(host) || allowed.Contains($"{host}:{endpoint.Port}");
        if (allowed.Count > 0 && !listed)
        {
            throw new BlockedRequestException($"'{host}' is not on this tenant's HTTP allowlist.");
        }

        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        if (addresses.Length == 0)
        {
            throw new BlockedRequestException($"'{host}' does not resolve.");
        }

        if (!listed && addresses.FirstOrDefault(IsForbidden) is { } forbidden)
        {
            throw new BlockedRequestException($"'{host}' resolves to {forbidden}, a private, loopback or link-local address; allow-list the host to reach it.");
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
