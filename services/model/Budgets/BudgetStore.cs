using Dapper;
using Npgsql;
using Platform.ServiceDefaults.Caching;

namespace Platform.Model.Budgets;

/// <summary>
/// Budgets and rate limits, per tenant (<c>key_id = ''</c>) and per key. Each tenant's rows are read together and
/// cached in-process for two seconds: a change reaches every replica within that time, and the hot path asks Postgres
/// at most once per tenant per window, however many keys call (every run has a key of its own).
/// </summary>
public sealed class BudgetStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private readonly ExpiringCache<string, IReadOnlyDictionary<string, Limits>> _limits = new(time, TimeSpan.FromSeconds(2));

    public async Task<(Limits Tenant, Limits Key)> LimitsForAsync(string tenantId, string keyId)
    {
        var limits = await _limits.GetOrLoadAsync(tenantId, LoadAsync);
        return (limits.GetValueOrDefault("", Limits.None), keyId == "" ? Limits.None : limits.GetValueOrDefault(keyId, Limits.None));
    }

    private async Task<IReadOnlyDictionary<string, Limits>> LoadAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<BudgetRow>(
            "SELECT tenant_id, key_id, daily_usd, monthly_usd, rpm, tpm, updated_at FROM budgets WHERE tenant_id = @tenantId", new { tenantId });
        return rows.ToDictionary(r => r.KeyId, r => r.AsLimits(), StringComparer.Ordinal);
    }

    public async Task<BudgetRow> PutAsync(string tenantId, string keyId, Limits limits)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleAsync<BudgetRow>("""
            INSERT INTO budgets (tenant_id, key_id, daily_usd, monthly_usd, rpm, tpm)
            VALUES (@tenantId, @keyId, @DailyUsd, @MonthlyUsd, @Rpm, @Tpm)
            ON CONFLICT (tenant_id, key_id) DO UPDATE
            SET daily_usd = excluded.daily_usd, monthly_usd = excluded.monthly_usd, rpm = excluded.rpm, tpm = excluded.tpm, updated_at = now()
            RETURNING tenant_id, key_id, daily_usd, monthly_usd, rpm, tpm, updated_at
            """, new { tenantId, keyId, limits.DailyUsd, limits.MonthlyUsd, limits.Rpm, limits.Tpm });
    }

    public async Task<IReadOnlyList<BudgetRow>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<BudgetRow>(
            "SELECT tenant_id, key_id, daily_usd, monthly_usd, rpm, tpm, updated_at FROM budgets WHERE tenant_id = @tenantId ORDER BY key_id",
            new { tenantId })).AsList();
    }

    public async Task<bool> DeleteAsync(string tenantId, string keyId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteAsync("DELETE FROM budgets WHERE tenant_id = @tenantId AND key_id = @keyId", new { tenantId, keyId }) > 0;
    }
}

/// <summary>USD per day and per month, requests and tokens per minute; null means unlimited.</summary>
public sealed record Limits(decimal? DailyUsd, decimal? MonthlyUsd, int? Rpm, int? Tpm)
{
    public static readonly Limits None = new(null, null, null, null);
}

public sealed record BudgetRow(string TenantId, string KeyId, decimal? DailyUsd, decimal? MonthlyUsd, int? Rpm, int? Tpm, DateTime UpdatedAt)
{
    public Limits AsLimits() => new(DailyUsd, MonthlyUsd, Rpm, Tpm);
}
