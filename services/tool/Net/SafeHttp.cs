using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Platform.Tool.Net;

/// <summary>
/// Outbound HTTP for tools, guarded against server-side request forgery. Every connection, the first and each
/// redirect's, is checked when it is made, after DNS resolution: loopback, private, link-local (cloud metadata
/// included), shared and unspecified addresses are refused unless the host is on the tenant's allowlist, and a tenant
/// with an allowlist reaches only those hosts. Connections are not pooled, so no tenant reuses another's.
/// </summary>
public sealed class SafeHttp(HttpAllowlist allowlist)
{
    public const int MaxResponseBytes = 1024 * 1024;
    private const int MaxRedirects = 5;

    public async Task<SafeResponse> SendAsync(string tenantId, HttpMethod method, Uri url, IReadOnlyDictionary<string, string>? headers,
        string? body, string? contentType, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var allowed = await allowlist.HostsAsync(tenantId);
        using var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ConnectCallback = (context, token) => ConnectAsync(context.DnsEndPoint, allowed, token),
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            for (var hop = 0; ; hop++)
            {
                CheckScheme(url);
                using var request = new HttpRequestMessage(method, url);
                foreach (var (name, value) in headers ?? new Dictionary<string, string>())
                {
                    if (!request.Headers.TryAddWithoutValidation(name, value))
                    {
                        throw new BlockedRequestException($"Header '{name}' cannot be set on a request.");
                    }
                }

                if (body is not null && method != HttpMethod.Get && method != HttpMethod.Head)
                {
                    request.Content = new StringContent(body, Encoding.UTF8, contentType ?? "application/json");
                }

                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
                if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (hop == MaxRedirects)
                    {
                        throw new BlockedRequestException($"More than {MaxRedirects} redirects.");
                    }

                    url = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if (response.StatusCode is HttpStatusCode.SeeOther || (response.StatusCode is HttpStatusCode.Found or HttpStatusCode.MovedPermanently && method == HttpMethod.Post))
                    {
                        (method, body) = (HttpMethod.Get, null);
                    }

                    continue;
                }

                return new SafeResponse((int)response.StatusCode, response.Content.Headers.ContentType?.ToString(),
                    await ReadLimitedAsync(response, deadline.Token), url);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BlockedRequestException($"No answer within {timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException e) when (e.InnerException is BlockedRequestException blocked)
        {
            throw blocked;
        }
        catch (HttpRequestException e)
        {
            throw new BlockedRequestException($"The request failed: {e.Message}");
        }
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
            // Connect to the addresses just checked, never to a second resolution of the name.
            await socket.ConnectAsync(addresses, endpoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void CheckScheme(Uri url)
    {
        if (url.Scheme is not ("http" or "https"))
        {
            throw new BlockedRequestException($"Only http and https URLs are allowed, not '{url.Scheme}'.");
        }
    }

    private static async Task<string> ReadLimitedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[MaxResponseBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken)) > 0)
        {
            total += read;
        }

        return total > MaxResponseBytes
            ? throw new BlockedRequestException($"The response is larger than {MaxResponseBytes / 1024} KiB.")
            : Encoding.UTF8.GetString(buffer, 0, total);
    }
}

public sealed record SafeResponse(int Status, string? ContentType, string Body, Uri FinalUrl);

/// <summary>An outbound request the guard refused or that could not complete; the tool reports it as its failure.</summary>
public sealed class BlockedRequestException(string message) : Exception(message);
