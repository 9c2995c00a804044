using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Platform.ServiceDefaults.Security;

/// <summary>
/// <c>Secrets:Key</c> is the current key (an AppHost secret parameter); <c>Secrets:PreviousKeys</c> are keys being
/// rotated out, still read until every value is re-encrypted.
/// </summary>
public sealed class SecretProtectionOptions
{
    public string? Key { get; set; }

    public List<string> PreviousKeys { get; set; } = [];
}

/// <summary>
/// Authenticated encryption (AES-256-GCM) of the secrets services keep in PostgreSQL, so a database dump alone reveals
/// none of them. A stored value names the key it was made with (<c>enc:v1:&lt;key id&gt;:&lt;nonce, ciphertext, tag&gt;</c>),
/// where the key id is derived from the key itself: rotating is adding the new key and keeping the old one as previous
/// until the owning service has re-encrypted its values.
/// </summary>
public sealed class SecretProtector
{
    private const string Prefix = "enc:v1:";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private readonly (string Id, byte[] Key) _current;
    private readonly Dictionary<string, byte[]> _keys;
    private readonly byte[] _fingerprintKey;

    public SecretProtector(IOptions<SecretProtectionOptions> options)
    {
        var secret = options.Value.Key;
        if (string.IsNullOrWhiteSpace(secret) || secret.Length < 16)
        {
            throw new InvalidOperationException("Secrets:Key must be set (at least 16 characters): it encrypts the secrets this service stores.");
        }

        _current = Derive(secret);
        _keys = options.Value.PreviousKeys.Where(k => !string.IsNullOrWhiteSpace(k)).Select(Derive).Append(_current)
            .GroupBy(k => k.Id).ToDictionary(g => g.Key, g => g.First().Key);
        _fingerprintKey = HKDF.DeriveKey(HashAlgorithmName.SHA256, _current.Key, 32, info: Encoding.ASCII.GetBytes("platform-secret-fingerprints-v1"));
    }

    public string Protect(string plaintext)
    {
        var data = Encoding.UTF8.GetBytes(plaintext);
        var sealedBytes = new byte[NonceBytes + data.Length + TagBytes];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_current.Key, TagBytes);
        aes.Encrypt(nonce, data, sealedBytes.AsSpan(NonceBytes, data.Length), sealedBytes.AsSpan(NonceBytes + data.Length), Encoding.ASCII.GetBytes(_current.Id));
        return $"{Prefix}{_current.Id}:{Convert.ToBase64String(sealedBytes)}";
    }

    public string Unprotect(string stored)
    {
        var (keyId, sealedBytes) = Parse(stored);
        if (!_keys.TryGetValue(keyId, out var key))
        {
            throw new CryptographicException($"The secret was encrypted with key {keyId}, which is neither Secrets:Key nor one of Secrets:PreviousKeys.");
        }

        var data = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(key, TagBytes);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes, data.Length), sealedBytes.AsSpan(NonceBytes + data.Length), data, Encoding.ASCII.GetBytes(keyId));
        return Encoding.UTF8.GetString(data);
    }

    /// <summary>
    /// Names a stored secret without revealing it: the same secret has the same fingerprint whichever key encrypted it
    /// (or none, from before encryption), and without the secrets key a fingerprint cannot be matched to a guess. It
    /// changes when the current key is rotated.
    /// </summary>
    public string Fingerprint(string stored)
    {
        var plaintext = stored.StartsWith(Prefix, StringComparison.Ordinal) ? Unprotect(stored) : stored;
        return Convert.ToHexStringLower(HMACSHA256.HashData(_fingerprintKey, Encoding.UTF8.GetBytes(plaintext)))[..32];
    }

    /// <summary>True when <paramref name="stored"/> is plaintext from before encryption, or made with a previous key.</summary>
    public bool NeedsReprotecting(string stored) => !stored.StartsWith(Prefix, StringComparison.Ordinal) || Parse(stored).KeyId != _current.Id;

    /// <summary>The value under the current key: plaintext is encrypted, a previous key's value re-encrypted.</summary>
    public string Reprotect(string stored) => Protect(stored.StartsWith(Prefix, StringComparison.Ordinal) ? Unprotect(stored) : stored);

    private static (string KeyId, byte[] Sealed) Parse(string stored)
    {
        var parts = stored.Split(':');
        if (parts.Length != 4 || !stored.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new CryptographicException("The stored value is not an encrypted secret.");
        }

        return (parts[2], Convert.FromBase64String(parts[3]));
    }

    private static (string Id, byte[] Key) Derive(string secret)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(secret), 32, info: Encoding.ASCII.GetBytes("platform-secrets-v1"));
        return (Convert.ToHexStringLower(SHA256.HashData(key))[..12], key);
    }
}
