using System.Security.Cryptography;
using System.Text;

namespace Platform.ServiceDefaults.Authentication;

public static class ApiKeys
{
    /// <summary>The tenant that owns the platform; its admins manage every tenant.</summary>
    public const string SystemTenant = "system";

    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    /// <summary>A new key: a recognisable prefix and 192 bits of randomness.</summary>
    public static string Generate() => "plt_" + RandomNumberGenerator.GetString(Alphabet, 32);

    /// <summary>
    /// SHA-256 is enough here: keys are long random strings, not passwords, so there is nothing to brute-force, and
    /// verification stays cheap on every request.
    /// </summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
