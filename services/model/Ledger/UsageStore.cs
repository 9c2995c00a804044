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

    /// <summary>Every tenant that spent between <paramref name="from"/> and <paramref name="to"/> or has a daily budget, the biggest spenders first.</summary>
    public async Task<IReadOnlyList<TenantSpendRow>> SpendByTenantAsync(DateTime from, DateTime to)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<TenantSpendRow>("""
            SELECT coalesce(spend.tenant_id, budget.tenant_id) AS tenant_id, coalesce(spend.requests, 0) AS requests,
                   coalesce(spend.cost_usd, 0) AS cost_usd, budget.daily_usd AS daily_budget_usd
            FROM (SELECT tenant_id, count(*)::int AS requests, sum(cost_usd) AS cost_usd
                  FROM usage_ledger WHERE occurred_at >= @from AND occurred_at < @to GROUP BY tenant_id) spend
            FULL JOIN (SELECT tenant_id, daily_usd FROM budgets WHERE key_id = '' AND daily_usd IS NOT NULL) budget
                ON budget.tenant_id = spend.tenant_id
            ORDER BY 3 DESC, 1
            """, new { from, to })).AsList();
    }
}

/// <summary>One tenant's spend over a period, with its tenant-wide daily budget.</summary>
public sealed record TenantSpendRow(string TenantId, int Requests, decimal CostUsd, decimal? DailyBudgetUsd);

public sealed record UsageRow(string Day, string Model, string KeyId, int Requests, long InputTokens, long OutputTokens, decimal CostUsd, int CacheHits, int Errors);
