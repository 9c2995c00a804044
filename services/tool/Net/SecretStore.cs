using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Security;
using Platform.Tool.Builtins;

namespace Platform.Tool.Net;

/// <summary>
/// A tenant's secrets for HTTP tool headers: <c>Bearer {{secret:weather_key}}</c> is filled in when the call is made.
/// Values are stored encrypted and decrypted only then; a database dump alone reveals none of them.
/// </summary>
public sealed partial class SecretStore(NpgsqlDataSource dataSource, SecretProtector protector)
{
    public async Task PutAsync(string tenantId, string name, string value)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO secrets (tenant_id, name, value, encrypted) VALUES (@tenantId, @name, @value, true)
            ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value, encrypted = true, updated_at = now()
            """, new { tenantId, name, value = protector.Protect(value) });
    }

    public async Task<IReadOnlyList<string>> NamesAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<string>("SELECT name FROM secrets WHERE tenant_id = @tenantId ORDER BY name", new { tenantId })).AsList();
    }

    public async Task<bool> DeleteAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteAsync("DELETE FROM secrets WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }) > 0;
    }

    /// <summary>Whether any header value names a secret: who may write such headers decides where the secret can go.</summary>
    public static bool ReferencesSecrets(IReadOnlyDictionary<string, string>? headers) =>
        headers?.Values.Any(v => Reference().IsMatch(v)) == true;

    /// <summary>Headers with their secret references filled in; a reference to a missing secret fails the call.</summary>
    public async Task<Dictionary<string, string>?> ResolveAsync(string tenantId, IReadOnlyDictionary<string, string>? headers)
    {
        if (headers is null)
        {
            return null;
        }

        var names = headers.Values.SelectMany(v => Reference().Matches(v).Select(m => m.Groups[1].Value)).Distinct().ToArray();
        if (names.Length == 0)
        {
            return headers.ToDictionary();
        }

        await using var connection = await dataSource.OpenConnectionAsync();
        var values = (await connection.QueryAsync<StoredSecret>(
            "SELECT tenant_id, name, value, encrypted FROM secrets WHERE tenant_id = @tenantId AND name = ANY(@names)", new { tenantId, names }))
            .ToDictionary(s => s.Name);
        return headers.ToDictionary(h => h.Key, h => Reference().Replace(h.Value, m =>
            values.TryGetValue(m.Groups[1].Value, out var secret) ? Reveal(secret) : throw new ToolFailedException($"The secret '{m.Groups[1].Value}' is not set.")));
    }

    /// <summary>
    /// Re-encrypts, under the current key, values stored in plaintext before encryption and values made with a previous
    /// key. A value written meanwhile is left as written; one no configured key decrypts is left and named.
    /// </summary>
    public async Task<(int Reprotected, IReadOnlyList<string> Unreadable)> ReprotectAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var secrets = await connection.QueryAsync<StoredSecret>(new CommandDefinition(
            "SELECT tenant_id, name, value, encrypted FROM secrets", cancellationToken: cancellationToken));
        var (reprotected, unreadable) = (0, new List<string>());
        foreach (var secret in secrets)
        {
            string plaintext;
            try
            {
                if (secret.Encrypted && !protector.NeedsReprotecting(secret.Value))
                {
                    continue;
                }

                plaintext = Reveal(secret);
            }
            catch (Exception e) when (e is ToolFailedException or CryptographicException or FormatException)
            {
                unreadable.Add($"{secret.TenantId}/{secret.Name}");
                continue;
            }

            reprotected += await connection.ExecuteAsync(new CommandDefinition("""
                UPDATE secrets SET value = @protected, encrypted = true
                WHERE tenant_id = @TenantId AND name = @Name AND value = @Value AND encrypted = @Encrypted
                """, new { secret.TenantId, secret.Name, secret.Value, secret.Encrypted, @protected = protector.Protect(plaintext) },
                cancellationToken: cancellationToken));
        }

        return (reprotected, unreadable);
    }

    private string Reveal(StoredSecret secret)
    {
        if (!secret.Encrypted)
        {
            return secret.Value;
        }

        try
        {
            return protector.Unprotect(secret.Value);
        }
        catch (Exception e) when (e is CryptographicException or FormatException)
        {
            throw new ToolFailedException($"The secret '{secret.Name}' cannot be decrypted with this service's keys (Secrets:Key and Secrets:PreviousKeys); set it again.", e);
        }
    }

    [GeneratedRegex(@"\{\{\s*secret:([A-Za-z0-9_-]{1,64})\s*\}\}")]
    private static partial Regex Reference();

    private sealed record StoredSecret(string TenantId, string Name, string Value, bool Encrypted);
}
