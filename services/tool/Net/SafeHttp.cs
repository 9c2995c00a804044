using System.Net;
using System.Text;
using Platform.ServiceDefaults.Net;

namespace Platform.Tool.Net;

/// <summary>
/// Outbound HTTP for tools through the <see cref="OutboundGuard"/>, following redirects (each one checked again) and
/// capping responses. The caller's headers (which may carry the tenant's secrets) go only to the origin they were
/// meant for: a redirect to another origin drops them, and one from https to http is refused. Connections are not
/// pooled, so no tenant reuses another's.
/// </summary>
public sealed class SafeHttp(HttpAllowlist allowlist)
{
    public const int MaxResponseBytes = 1024 * 1024;
    private const int MaxRedirects = 5;

    public async Task<SafeResponse> SendAsync(string tenantId, HttpMethod method, Uri url, IReadOnlyDictionary<string, string>? headers,
        string? body, string? contentType, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var handler = OutboundGuard.CreateHandler(await allowlist.PolicyAsync(tenantId));
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            for (var hop = 0; ; hop++)
            {
                OutboundGuard.CheckScheme(url);
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

                    var next = OutboundGuard.Redirect(url, location);
                    if (!OutboundGuard.SameOrigin(url, next))
                    {
                        headers = null;
                    }

                    url = next;
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
