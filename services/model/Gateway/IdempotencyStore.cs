using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Model.Catalog;
using Platform.ServiceDefaults.Json;

namespace Platform.Model.Gateway;

/// <summary>
/// Idempotency-Key claims in PostgreSQL, per tenant (ADR 0007). The first request with a key inserts its claim before
/// it goes upstream, with a lease of the request timeout that the request extends while it runs; a success stores the
/// answer in the claim, kept for <see cref="ModelGatewayOptions.IdempotencyTtl"/>; a failure deletes it so that a retry
/// runs again. A claim whose lease lapsed without an answer belonged to a replica that died mid-call: the call may have
/// been paid for, so it is never made again under that key. Each change after the claim is made only by its owner.
/// </summary>
public sealed class IdempotencyStore(NpgsqlDataSource dataSource, IOptionsMonitor<ModelGatewayOptions> options, ILogger<IdempotencyStore> logger)
{
    // A repeat chooses how it receives the answer: whether it streams does not make it another request.
    private static readonly HashSet<string> NotFingerprinted = ["stream", "stream_options"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // Inserts the claim, or takes over a key whose retention has passed; otherwise reads what holds the key. A claim
    // committed by a concurrent request after this statement began is not in its snapshot and reads as no row: in use.
    private const string ClaimSql = """
        WITH claimed AS (
            INSERT INTO idempotency_claims AS claim (tenant_id, idempotency_key, fingerprint, owner, lease_until, expires_at)
            VALUES (@TenantId, @Key, @Fingerprint, @Owner, now() + @Lease, now() + @Retention)
            ON CONFLICT (tenant_id, idempotency_key) DO UPDATE
            SET fingerprint = excluded.fingerprint, owner = excluded.owner, lease_until = excluded.lease_until, expires_at = excluded.expires_at,
                answer = NULL, cost_usd = NULL, claimed_at = now(), completed_at = NULL
            WHERE claim.expires_at < now() AND (claim.answer IS NOT NULL OR claim.lease_until < now())
            RETURNING owner
        )
        SELECT true AS claimed, NULL::text AS fingerprint, NULL::text AS answer, NULL::numeric AS cost_usd, false AS abandoned FROM claimed
        UNION ALL
        SELECT false, fingerprint, answer, cost_usd, answer IS NULL AND lease_until < now()
        FROM idempotency_claims
        WHERE tenant_id = @TenantId AND idempotency_key = @Key AND NOT EXISTS (SELECT FROM claimed)
        """;

    private const string Owned = "tenant_id = @TenantId AND idempotency_key = @Key AND owner = @Owner AND answer IS NULL";

    /// <summary>Claims <paramref name="key"/> for this request, or says why not: the stored answer to replay, or an error.</summary>
    public async Task<IdempotencyLookup> ClaimAsync(string tenantId, string key, ChatRequest request)
    {
        var fingerprint = CanonicalJson.Hash(request.Body, NotFingerprinted);
        var owner = Guid.NewGuid();
        var lease = Lease;
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            var found = await connection.QuerySingleOrDefaultAsync<ClaimRow>(ClaimSql,
                new { TenantId = tenantId, Key = key, Fingerprint = fingerprint, Owner = owner, Lease = lease, Retention = options.CurrentValue.IdempotencyTtl });
            return found switch
            {
                { Claimed: true } => new IdempotencyLookup(new IdempotencyClaim(this, tenantId, key, owner, lease), null, null),
                null => new IdempotencyLookup(null, null, OpenAiError.IdempotencyKeyInUse()),
                _ when found.Fingerprint != fingerprint => new IdempotencyLookup(null, null, OpenAiError.IdempotencyKeyReused()),
                { Answer: { } answer } => new IdempotencyLookup(null, new IdempotencyAnswer(JsonSerializer.Deserialize<CachedCompletion>(answer, Json)!, found.CostUsd ?? 0m), null),
                { Abandoned: true } => new IdempotencyLookup(null, null, OpenAiError.IdempotencyOutcomeUnknown()),
                _ => new IdempotencyLookup(null, null, OpenAiError.IdempotencyKeyInUse()),
            };
        }
        catch (Exception e) when (e is NpgsqlException or JsonException)
        {
            // Running the request unguarded could pay for it twice: the caller retries instead.
            logger.LogWarning("Idempotency-Key lookup failed: {Message}", e.Message);
            return new IdempotencyLookup(null, null, OpenAiError.IdempotencyUnavailable());
        }
    }

    /// <summary>How long a claim lives without being extended: the gateway's request timeout.</summary>
    private TimeSpan Lease => TimeSpan.FromMilliseconds(Math.Max(1000, options.CurrentValue.TotalTimeout.TotalMilliseconds));

    internal Task<bool> CompleteAsync(IdempotencyClaim claim, CachedCompletion answer, decimal costUsd) => IfOwnedAsync(claim, $"""
        UPDATE idempotency_claims
        SET answer = @Answer, cost_usd = @CostUsd, completed_at = now(), expires_at = now() + @Retention
        WHERE {Owned}
        """, new { Answer = JsonSerializer.Serialize(answer, Json), CostUsd = costUsd, Retention = options.CurrentValue.IdempotencyTtl });

    internal Task<bool> ExtendAsync(IdempotencyClaim claim) =>
        IfOwnedAsync(claim, $"UPDATE idempotency_claims SET lease_until = now() + @Lease WHERE {Owned}", new { claim.Lease });

    internal Task<bool> ReleaseAsync(IdempotencyClaim claim) => IfOwnedAsync(claim, $"DELETE FROM idempotency_claims WHERE {Owned}", new { });

    /// <summary>Deletes the claims whose retention has passed (the primary key would let a new claim take them over anyway).</summary>
    public async Task<int> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM idempotency_claims WHERE expires_at < now() AND (answer IS NOT NULL OR lease_until < now())", cancellationToken: cancellationToken));
    }

    private async Task<bool> IfOwnedAsync(IdempotencyClaim claim, string sql, object values)
    {
        var parameters = new DynamicParameters(values);
        parameters.AddDynamicParams(new { claim.TenantId, claim.Key, claim.Owner });
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            return await connection.ExecuteAsync(sql, parameters) == 1;
        }
        catch (NpgsqlException e)
        {
            // The claim then stays until its lease lapses, after which a repeat learns that the outcome is unknown.
            logger.LogWarning("Idempotency-Key update failed: {Message}", e.Message);
            return false;
        }
    }

    private sealed record ClaimRow(bool Claimed, string? Fingerprint, string? Answer, decimal? CostUsd, bool Abandoned);
}

/// <summary>What a lookup found: a claim to run under, a stored answer to replay, or an error to answer with.</summary>
public sealed record IdempotencyLookup(IdempotencyClaim? Claim, IdempotencyAnswer? Stored, OpenAiError? Error);

/// <summary>The answer a completed call stored under its key, and what it cost.</summary>
public sealed record IdempotencyAnswer(CachedCompletion Answer, decimal CostUsd);
