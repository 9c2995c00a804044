using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Platform.Tool.Builtins;

namespace Platform.Tool.Net;

/// <summary>A tenant's secrets for HTTP tool headers: <c>Bearer {{secret:weather_key}}</c> is filled in when the call is made.</summary>
public sealed partial class SecretStore(NpgsqlDataSource dataSource)
{
    public async Task PutAsync(string tenantId, string name, string value)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO secrets (tenant_id, name, value) VALUES (@tenantId, @name, @value)
            ON CONFLICT (tenant_id, name) DO UPDATE SET value = excluded.value, updated_at = now()
            """, new { tenantId, name, value });
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
        var values = (await connection.QueryAsync<(string Name, string Value)>(
            "SELECT name, value FROM secrets WHERE tenant_id = @tenantId AND name = ANY(@names)", new { tenantId, names })).ToDictionary(s => s.Name, s => s.Value);
        return headers.ToDictionary(h => h.Key, h => Reference().Replace(h.Value, m =>
            values.TryGetValue(m.Groups[1].Value, out var value) ? value : throw new ToolFailedException($"The secret '{m.Groups[1].Value}' is not set.")));
    }

    [GeneratedRegex(@"\{\{\s*secret:([A-Za-z0-9_-]{1,64})\s*\}\}")]
    private static partial Regex Reference();
}
