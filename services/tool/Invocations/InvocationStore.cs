using System.Text.Json;
using Dapper;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Platform.Tool.Invocations;

/// <summary>Invocation rows: the claim that makes execution exactly-once, results, approvals and the audit trail.</summary>
public sealed class InvocationStore(NpgsqlDataSource dataSource)
{
    // A call that ran has an outcome that must be recorded: brief database trouble (a restart, no free connection) is
    // waited out for about the lease's grace, after which the claim would count as abandoned anyway.
    private static readonly ResiliencePipeline OutcomeRecording = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
    {
        ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(e => e.IsTransient),
        MaxRetryAttempts = 8,
        Delay = TimeSpan.FromMilliseconds(100),
        MaxDelay = TimeSpan.FromSeconds(2),
        BackoffType = DelayBackoffType.Exponential,
        UseJitter = true,
    }).Build();

    private const string Columns = """
        id, tenant_id, key_id, tool, idempotency_key, arguments_hash, arguments::text, pending_arguments::text, run_id, step_id, side_effect, status,
        result::text, error, error_code, duration_ms, approval_id, lease_until, created_at, finished_at
        """;

    public async Task<InvocationRow?> FindByKeyAsync(string tenantId, string idempotencyKey)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<InvocationRow>(
            $"SELECT {Columns} FROM tool_invocations WHERE tenant_id = @tenantId AND idempotency_key = @idempotencyKey", new { tenantId, idempotencyKey });
    }

    public async Task<InvocationRow?> FindAsync(string tenantId, Guid id)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<InvocationRow>(
            $"SELECT {Columns} FROM tool_invocations WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
    }

    public async Task<IReadOnlyList<InvocationRow>> ListLatestAsync(string tenantId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return (await connection.QueryAsync<InvocationRow>(new CommandDefinition(
            $"SELECT {Columns} FROM tool_invocations WHERE tenant_id = @tenantId ORDER BY created_at DESC LIMIT @limit",
            new { tenantId, limit }, cancellationToken: cancellationToken))).AsList();
    }

    /// <summary>
    /// Claims an idempotency key: the one caller whose insert lands executes (or waits for approval); every other caller
    /// with the key gets null and reads the row instead. A pending approval is created in the same transaction.
    /// </summary>
    public async Task<InvocationRow?> ClaimAsync(NewInvocation invocation, TimeSpan lease, TimeSpan? approvalExpiresAfter)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var id = Guid.CreateVersion7();
        var approvalId = approvalExpiresAfter is null ? (Guid?)null : Guid.CreateVersion7();
        var row = await connection.QuerySingleOrDefaultAsync<InvocationRow>($"""
            INSERT INTO tool_invocations (id, tenant_id, key_id, tool, idempotency_key, arguments_hash, arguments, pending_arguments,
                run_id, step_id, side_effect, status, approval_id, lease_until, trace_id)
            VALUES (@id, @TenantId, @KeyId, @Tool, @IdempotencyKey, @ArgumentsHash, @RedactedArguments::jsonb,
                CASE WHEN @approvalId::uuid IS NULL THEN NULL ELSE @Arguments::jsonb END,
                @RunId, @StepId, @SideEffect,
                CASE WHEN @approvalId::uuid IS NULL THEN 'running' ELSE 'pending_approval' END,
                @approvalId, CASE WHEN @approvalId::uuid IS NULL THEN now() + @lease ELSE NULL END, @TraceId)
            ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
            RETURNING {Columns}
            """, new
        {
            id, invocation.TenantId, invocation.KeyId, invocation.Tool, invocation.IdempotencyKey, invocation.ArgumentsHash,
            invocation.RedactedArguments, invocation.Arguments, invocation.RunId, invocation.StepId, invocation.SideEffect, invocation.TraceId,
            approvalId, lease,
        }, transaction);
        if (row is not null && approvalId is { } approval)
        {
            await connection.ExecuteAsync("""
                INSERT INTO approvals (id, tenant_id, invocation_id, tool, status, expires_at)
                VALUES (@approval, @TenantId, @id, @Tool, 'pending', now() + @expiresAfter)
                """, new { approval, invocation.TenantId, id, invocation.Tool, expiresAfter = approvalExpiresAfter }, transaction);
        }

        await transaction.CommitAsync();
        return row;
    }

    /// <summary>Takes over a running invocation whose owner's lease has run out; null when someone else holds it.</summary>
    public async Task<InvocationRow?> TakeOverAsync(Guid id, TimeSpan lease)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<InvocationRow>($"""
            UPDATE tool_invocations SET lease_until = now() + @lease
            WHERE id = @id AND status = 'running' AND lease_until < now()
            RETURNING {Columns}
            """, new { id, lease });
    }

    /// <summary>
    /// A side-effecting invocation whose owner died mid-way: whether the effect happened cannot be known, so it is
    /// recorded as unknown rather than run again.
    /// </summary>
    public async Task<InvocationRow?> MarkUnknownAsync(Guid id)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<InvocationRow>($"""
            UPDATE tool_invocations
            SET status = 'unknown', error = 'An earlier attempt stopped before recording its outcome; it was not run again.', lease_until = NULL, finished_at = now()
            WHERE id = @id AND status = 'running' AND lease_until < now()
            RETURNING {Columns}
            """, new { id });
    }

    public async Task<InvocationRow> FinishAsync(Guid id, string status, string? result, string? error, string? errorCode, int durationMs) =>
        await OutcomeRecording.ExecuteAsync(async _ =>
        {
            await using var connection = await dataSource.OpenConnectionAsync();
            return await connection.QuerySingleAsync<InvocationRow>($"""
                UPDATE tool_invocations
                SET status = @status, result = @result::jsonb, error = @error, error_code = @errorCode, result_size = octet_length(@result), duration_ms = @durationMs,
                    lease_until = NULL, finished_at = now(), pending_arguments = NULL
                WHERE id = @id
                RETURNING {Columns}
                """, new { id, status, result, error, errorCode, durationMs });
        });

    /// <summary>Records a decision on a pending approval exactly once; the approved invocation is claimed to run.</summary>
    public async Task<(ApprovalRow? Approval, InvocationRow? Invocation)> DecideAsync(string tenantId, Guid approvalId, bool approve, string decidedBy, string? reason, TimeSpan lease)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var approval = await connection.QuerySingleOrDefaultAsync<ApprovalRow>("""
            UPDATE approvals SET status = @status, decided_by = @decidedBy, reason = @reason, decided_at = now()
            WHERE id = @approvalId AND tenant_id = @tenantId AND status = 'pending' AND expires_at > now()
            RETURNING id, invocation_id, tool, status, reason, decided_by, decided_at, expires_at, created_at
            """, new { approvalId, tenantId, status = approve ? "approved" : "denied", decidedBy, reason }, transaction);
        if (approval is null)
        {
            return (null, null);
        }

        var invocation = await connection.QuerySingleAsync<InvocationRow>($"""
            UPDATE tool_invocations
            SET status = @status, lease_until = CASE WHEN @approve THEN now() + @lease ELSE NULL END,
                error = CASE WHEN @approve THEN NULL ELSE 'Denied: ' || coalesce(@reason, 'no reason given') END,
                finished_at = CASE WHEN @approve THEN NULL ELSE now() END,
                pending_arguments = CASE WHEN @approve THEN pending_arguments ELSE NULL END
            WHERE id = @invocationId
            RETURNING {Columns}
            """, new { status = approve ? "running" : "denied", approve, lease, reason, invocationId = approval.InvocationId }, transaction);
        await transaction.CommitAsync();
        return (approval, invocation);
    }

    public async Task<ApprovalRow?> FindApprovalAsync(string tenantId, Guid approvalId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<ApprovalRow>("""
            SELECT id, invocation_id, tool, status, reason, decided_by, decided_at, expires_at, created_at
            FROM approvals WHERE id = @approvalId AND tenant_id = @tenantId
            """, new { approvalId, tenantId });
    }

    public async Task<IReadOnlyList<ApprovalRow>> ListApprovalsAsync(string tenantId, string status, int limit)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<ApprovalRow>("""
            SELECT id, invocation_id, tool, status, reason, decided_by, decided_at, expires_at, created_at
            FROM approvals WHERE tenant_id = @tenantId AND status = @status ORDER BY created_at LIMIT @limit
            """, new { tenantId, status, limit })).AsList();
    }

    /// <summary>Pending approvals past their time are denied by expiry, with their invocations.</summary>
    public async Task<int> ExpireApprovalsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.ExecuteAsync("""
            WITH expired AS (
                UPDATE approvals SET status = 'expired', decided_at = now()
                WHERE status = 'pending' AND expires_at <= now()
                RETURNING invocation_id
            )
            UPDATE tool_invocations SET status = 'expired', error = 'The approval expired before anyone decided.', finished_at = now(),
                pending_arguments = NULL
            WHERE id IN (SELECT invocation_id FROM expired)
            """);
    }
}

public sealed record NewInvocation(
    string TenantId, string KeyId, string Tool, string IdempotencyKey, string ArgumentsHash, string Arguments, string RedactedArguments,
    string? RunId, string? StepId, string SideEffect, string? TraceId);

public sealed record InvocationRow(
    Guid Id, string TenantId, string KeyId, string Tool, string IdempotencyKey, string ArgumentsHash, string Arguments, string? PendingArguments, string? RunId, string? StepId,
    string SideEffect, string Status, string? Result, string? Error, string? ErrorCode, int? DurationMs, Guid? ApprovalId, DateTime? LeaseUntil,
    DateTime CreatedAt, DateTime? FinishedAt)
{
    public InvocationDto AsDto(bool replayed) => new(Id, Tool, Status, JsonDocument.Parse(Arguments).RootElement.Clone(),
        Result is null ? null : JsonDocument.Parse(Result).RootElement.Clone(), Error, ErrorCode,
        Status == InvocationStatus.Failed ? InvocationErrors.Retryable(ErrorCode) : null,
        IdempotencyKey, RunId, StepId, ApprovalId, DurationMs, CreatedAt, FinishedAt, replayed);
}

public sealed record ApprovalRow(
    Guid Id, Guid InvocationId, string Tool, string Status, string? Reason, string? DecidedBy, DateTime? DecidedAt, DateTime ExpiresAt, DateTime CreatedAt);
