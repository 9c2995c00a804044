namespace Platform.Model.Ledger;

/// <summary>One gateway request as the ledger keeps it.</summary>
public sealed record UsageRecord(
    DateTime OccurredAt,
    string TenantId,
    string KeyId,
    string Alias,
    string? Deployment,
    int InputTokens,
    int OutputTokens,
    decimal CostUsd,
    int LatencyMs,
    bool CacheHit,
    int Status,
    string? TraceId,
    string? IdempotencyKey = null);
