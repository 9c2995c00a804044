using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Platform.ServiceDefaults.Security;

namespace Platform.UnitTests;

public sealed class SecretProtectorTests
{
    private const string OldKey = "old-secrets-key-0123456789abcdef";
    private const string NewKey = "new-secrets-key-0123456789abcdef";

    [Fact]
    public void AProtectedValueHidesThePlaintextAndReadsBack()
    {
        var protector = Protector(OldKey);

        var stored = protector.Protect("sk-live-visible");

        Assert.DoesNotContain("sk-live-visible", stored, StringComparison.Ordinal);
        Assert.NotEqual(stored, protector.Protect("sk-live-visible"));
        Assert.Equal("sk-live-visible", protector.Unprotect(stored));
    }

    [Fact]
    public void RotationReadsTheOldKeysValuesAndReprotectsThemUnderTheNewOne()
    {
        var stored = Protector(OldKey).Protect("value");
        var rotated = Protector(NewKey, OldKey);

        Assert.True(rotated.NeedsReprotecting(stored));
        var reprotected = rotated.Reprotect(stored);
        Assert.False(rotated.NeedsReprotecting(reprotected));
        Assert.Equal("value", Protector(NewKey).Unprotect(reprotected));
        Assert.Throws<CryptographicException>(() => Protector(NewKey).Unprotect(stored));
    }

    [Fact]
    public void PlaintextFromBeforeEncryptionIsReprotectedAndTamperingIsDetected()
    {
        var protector = Protector(NewKey);

        Assert.True(protector.NeedsReprotecting("plain value"));
        Assert.Equal("plain value", protector.Unprotect(protector.Reprotect("plain value")));
        var stored = protector.Protect("value");
        var tampered = stored[..^4] + (stored[^4] == 'A' ? 'B' : 'A') + stored[^3..];
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(tampered));
    }

    [Fact]
    public void ASecretsFingerprintIsTheSameHoweverItIsStoredAndDiffersFromItsPlainHash()
    {
        var rotated = Protector(NewKey, OldKey);

        var fingerprint = rotated.Fingerprint(rotated.Protect("sk-live"));

        Assert.Equal(fingerprint, rotated.Fingerprint(Protector(OldKey).Protect("sk-live")));
        Assert.Equal(fingerprint, rotated.Fingerprint("sk-live"));
        Assert.NotEqual(fingerprint, rotated.Fingerprint(rotated.Protect("sk-other")));
        Assert.NotEqual(fingerprint, Protector(OldKey).Fingerprint("sk-live"));
        Assert.DoesNotContain(fingerprint, Convert.ToHexStringLower(SHA256.HashData("sk-live"u8)), StringComparison.Ordinal);
    }

    private static SecretProtector Protector(string key, params string[] previous) =>
        new(Options.Create(new SecretProtectionOptions { Key = key, PreviousKeys = [.. previous] }));
}
