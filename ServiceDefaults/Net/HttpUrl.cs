using System.Diagnostics.CodeAnalysis;

namespace Platform.ServiceDefaults.Net;

/// <summary>
/// The one rule for a URL the platform is given to call (a webhook, a provider's base URL, an MCP server, an HTTP
/// tool's endpoint, the <c>http_request</c> tool's target): absolute http or https with a host, at most
/// <see cref="MaxLength"/> characters, no credentials in it, which would be stored and shown in clear. Where it may
/// go once resolved is <see cref="OutboundGuard"/>'s to decide, on every connection.
/// </summary>
public static class HttpUrl
{
    public const int MaxLength = 2048;

    public static readonly string Rule = $"An absolute http or https URL of at most {MaxLength:N0} characters.";

    public const string CredentialsProblem =
        "The URL carries credentials (user:password@), which would be stored and shown in clear: pass them the way this API takes secrets.";

    /// <summary>Only http and https with a host, so no other scheme handler is reachable through a tenant's URL.</summary>
    public static bool IsHttp(Uri url) => url.IsAbsoluteUri && url.Scheme is "http" or "https" && url.Host.Length > 0;

    /// <summary>The URL <paramref name="value"/> names, or why it is not one the platform takes.</summary>
    public static bool TryParse(string? value, [NotNullWhen(true)] out Uri? url, [NotNullWhen(false)] out string? problem)
    {
        url = null;
        problem = Rule;
        if (value is not { Length: > 0 and <= MaxLength } || !Uri.TryCreate(value, UriKind.Absolute, out var parsed) || !IsHttp(parsed))
        {
            return false;
        }

        if (parsed.UserInfo.Length > 0)
        {
            problem = CredentialsProblem;
            return false;
        }

        (url, problem) = (parsed, null);
        return true;
    }

    public static string? Problem(string? value) => TryParse(value, out _, out var problem) ? null : problem;
}
