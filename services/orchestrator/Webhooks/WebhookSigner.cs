using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Security;

namespace Platform.Orchestrator.Webhooks;

/// <summary>
/// Each tenant's webhook signing secret, derived from the platform's secrets key (HKDF, per tenant), so nothing more
/// is stored and rotating the secrets key rotates every tenant's secret. Receivers check
/// <c>X-Platform-Signature: v1=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))</c> and that the timestamp is recent.
/// </summary>
public sealed class WebhookSigner(IOptions<SecretProtectionOptions> options)
{
    public string SecretFor(string tenantId) => Convert.ToBase64String(Key(tenantId));

    public string Sign(string tenantId, long timestamp, string body) =>
        "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData(Key(tenantId), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    private byte[] Key(string tenantId) => HKDF.DeriveKey(
        HashAlgorithmName.SHA256,
        Encoding.UTF8.GetBytes(options.Value.Key ?? throw new InvalidOperationException("Secrets:Key must be set: it keys webhook signatures.")),
        32,
        info: Encoding.UTF8.GetBytes($"platform-webhooks-v1:{tenantId}"));
}
