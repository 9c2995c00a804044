namespace Platform.Dashboard.Clients;

/// <summary>The model gateway's wire types, as far as the dashboard reads them.</summary>
public sealed record ModelAlias(string Alias, string Strategy, IReadOnlyList<ModelDeploymentInfo> Deployments, bool Shared, DateTime? UpdatedAt);

public sealed record ModelDeploymentInfo(
    string Name, string Provider, string Model, string? BaseUrl, bool HasApiKey, decimal InputPricePerMillion, decimal OutputPricePerMillion,
    int ContextWindow, int? Rpm, int? Tpm, int Weight, DateTimeOffset? CooldownUntil);

/// <summary>One day's usage of one model by one key; <see cref="Day"/> is <c>yyyy-MM-dd</c> (UTC).</summary>
public sealed record UsageRow(string Day, string Model, string KeyId, int Requests, long InputTokens, long OutputTokens, decimal CostUsd, int CacheHits, int Errors);

public sealed record Budget(string TenantId, string KeyId, decimal? DailyUsd, decimal? MonthlyUsd, int? Rpm, int? Tpm, DateTime UpdatedAt);

/// <summary>One tenant's spend today (UTC) and its tenant-wide daily budget.</summary>
public sealed record TenantSpend(string TenantId, int Requests, decimal CostUsd, decimal? DailyBudgetUsd);
