using Dapper;
using Npgsql;

namespace Platform.Model.Ledger;

/// <summary>Usage aggregated by day, model and key: one statement per grouping, never string-built.</summary>
public sealed class UsageStore(NpgsqlDataSource dataSource)
{
    public async Task<IReadOnlyList<UsageRow>> AggregateAsync(string tenantId, DateTime from, DateTime to)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<UsageRow>("""
            SELECT date_trunc('day', occurred_at AT TIME ZONE 'UTC')::date::text AS day, alias AS model, key_id,
                   count(*)::int AS requests, sum(input_tokens)::bigint AS input_tokens, sum(output_tokens)::bigint AS output_tokens,
                   sum(cost_usd) AS cost_usd, count(*) FILTER (WHERE cache_hit)::int AS cache_hits,
                   count(*) FILTER (WHERE status >= 400)::int AS errors
            FROM usage_ledger
            WHERE tenant_id = @tenantId AND occurred_at >= @from AND occurred_at < @to
            GROUP BY 1, 2, 3
            ORDER BY 1, 2, 3
            """, new { tenantId, from, to })).AsList();
    }
}

public sealed record UsageRow(string Day, string Model, string KeyId, int Requests, long InputTokens, long OutputTokens, decimal CostUsd, int CacheHits, int Errors);
