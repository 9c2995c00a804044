using Npgsql;

namespace Platform.Tests.Sweep;

/// <summary>
/// Every table of a service's database: its row count, and a hash of the sweep tenant's rows (so an overwrite shows
/// too). Whole-table counts are safe here because the tests of the platform collection run one at a time.
/// </summary>
public static class TableSnapshot
{
    /// <summary>Tables that record every request by design, refused ones included.</summary>
    private static readonly Dictionary<string, string[]> Excluded = new()
    {
        // The gateway's ledger records every chat and embeddings request that names a model, a 429 refusal or an
        // upstream failure too (ChatGateway.Finish, EmbeddingsApi's finally), written in batches after the answer.
        ["model"] = ["usage_ledger"],
    };

    public static async Task<IReadOnlyDictionary<string, string>> TakeAsync(string connectionString, string service, string tenantId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var tables = new List<(string Name, bool HasTenant)>();
        await using (var list = new NpgsqlCommand("""
            SELECT t.table_name, EXISTS (SELECT 1 FROM information_schema.columns c
                WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'tenant_id')
            FROM information_schema.tables t
            WHERE t.table_schema = 'public' AND t.table_type = 'BASE TABLE'
            """, connection))
        await using (var reader = await list.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                tables.Add((reader.GetString(0), reader.GetBoolean(1)));
            }
        }

        var snapshot = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, hasTenant) in tables.Where(t => !Excluded.GetValueOrDefault(service, []).Contains(t.Name)))
        {
            var table = $"\"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
            await using var command = new NpgsqlCommand(hasTenant
                ? $"SELECT count(*) || ' rows, the sweep tenant''s hashing to ' || md5(coalesce(string_agg(t::text, '|' ORDER BY t::text) FILTER (WHERE t.tenant_id = $1), '')) FROM {table} t"
                : $"SELECT count(*) || ' rows' FROM {table} t", connection);
            if (hasTenant)
            {
                command.Parameters.Add(new() { Value = tenantId });
            }

            snapshot[name] = (string)(await command.ExecuteScalarAsync())!;
        }

        return snapshot;
    }
}
