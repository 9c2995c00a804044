using System.Security.Cryptography;
using System.Text;

namespace Platform.ServiceDefaults.Net;

/// <summary>
/// Where one tenant's outbound HTTP may go. <see cref="Allowed"/> is the tenant's own allowlist: empty means any public
/// host, otherwise only those (and its grants); it can only narrow. <see cref="PrivateGrants"/> are the hosts the
/// platform operator let this tenant reach although they resolve to private, loopback or link-local addresses: a
/// tenant never sets these itself. Entries are host names or <c>host:port</c>, lower case.
/// </summary>
public sealed record OutboundPolicy(IReadOnlySet<string> Allowed, IReadOnlySet<string> PrivateGrants)
{
    public static readonly OutboundPolicy PublicOnly = new(new HashSet<string>(), new HashSet<string>());

    /// <summary>Changes whenever either list does, so a pool made under an older policy can be replaced.</summary>
    public string Version { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(
        string.Join('\n', Allowed.Order(StringComparer.Ordinal)) + "\n--\n" + string.Join('\n', PrivateGrants.Order(StringComparer.Ordinal)))));

    public bool IsGranted(string host, int port) => Lists(PrivateGrants, host, port);

    public bool IsAllowed(string host, int port) => Allowed.Count == 0 || Lists(Allowed, host, port) || IsGranted(host, port);

    private static bool Lists(IReadOnlySet<string> hosts, string host, int port) =>
        hosts.Contains(host) || hosts.Contains(FormattableString.Invariant($"{host}:{port}"));
}
