using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;

namespace Platform.Orchestrator.Runs;

/// <summary>
/// Runs in PostgreSQL, the truth about every run. Each transition is one statement (<see cref="CommitAsync"/>) that
/// checks the writer still holds the run, numbers its events from the run's own counter and writes steps, events,
/// the outbox and the run key's revocation together; a replica that lost its lease writes nothing.
/// </summary>
public sealed class RunStore(NpgsqlDataSource dataSource)
{
    private const string RunColumns = """
        id, tenant_id AS TenantId, agent, agent_version AS AgentVersion, agent_definition::text AS AgentDefinition, goal,
        input::text AS Input, metadata::text AS Metadata, webhook_url AS WebhookUrl, idempotency_key AS IdempotencyKey,
        created_by AS CreatedBy, run_key_id AS RunKeyId, run_key AS RunKey, state, reason, output::text AS Output,
        plan_id AS PlanId, plan_revision AS PlanRevision, replans, cost_usd AS CostUsd, prompt_tokens AS PromptTokens,
        completion_tokens AS CompletionTokens, event_seq AS EventSeq, cancel_requested AS CancelRequested, deadline,
        created_at AS CreatedAt, updated_at AS UpdatedAt, finished_at AS FinishedAt
        """;

    private const string StepColumns = """
        run_id AS RunId, id, position, kind, title, instruction, tool, arguments::text AS Arguments, depends_on AS DependsOn,
        acceptance, compensation::text AS Compensation, state, attempts, attempt_log::text AS AttemptLog, output::text AS Output, error, invocation_id AS InvocationId,
        replannable, compensation_state AS CompensationState, compensation_error AS CompensationError, cost_usd AS CostUsd, prompt_tokens AS PromptTokens, completion_tokens AS CompletionTokens, started_at AS StartedAt,
        finished_at AS FinishedAt
        """;

    private static readonly string[] ActiveStates = [RunStates.Queued, RunStates.Planning, RunStates.Running, RunStates.WaitingApproval];

    /// <summary>
    /// Accepts a run with its key and first event; with <paramref name="owner"/> the accepting replica holds it at once,
    /// and with <paramref name="planning"/> the run is planning from the start (its second event), which saves the
    /// transition a statement of its own. A repeated idempotency key returns the run it first made (<c>Created</c>
    /// false) and makes nothing.
    /// </summary>
    public async Task<(RunRow Run, bool Created)> CreateAsync(NewRun run, string? owner, bool planning, TimeSpan lease)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var created = await connection.QuerySingleOrDefaultAsync<RunRow>($"""
            WITH run AS (
                INSERT INTO runs (id, tenant_id, agent, agent_version, agent_definition, goal, input, metadata, webhook_url,
                    idempotency_key, created_by, run_key_id, run_key, state, event_seq, lease_owner, lease_until, deadline)
                VALUES (@Id, @TenantId, @Agent, @AgentVersion, @AgentDefinition::jsonb, @Goal, @Input::jsonb, @Metadata::jsonb,
                    @WebhookUrl, @IdempotencyKey, @CreatedBy, @RunKeyId, @ProtectedRunKey,
                    CASE WHEN @planning THEN 'planning' ELSE 'queued' END, CASE WHEN @planning THEN 2 ELSE 1 END, @owner,
                    CASE WHEN @owner::text IS NULL THEN NULL ELSE now() + make_interval(secs => @leaseSeconds) END,
                    now() + make_interval(secs => @RunSeconds))
                ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
                RETURNING *),
            run_key AS (
                INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, run_id, expires_at)
                SELECT @RunKeyId, tenant_id, 'run ' || id, @RunKeyHash, @RunKeyPrefix, @RunKeyScopes, id, deadline + interval '1 hour'
                FROM run),
            event AS (
                INSERT INTO run_events (run_id, seq, tenant_id, type, data)
                SELECT id, 1, tenant_id, '{RunEventTypes.RunQueued}', @QueuedEvent::jsonb FROM run
                UNION ALL
                SELECT id, 2, tenant_id, '{RunEventTypes.RunPlanning}', jsonb_build_object() FROM run WHERE @planning)
            SELECT {RunColumns} FROM run
            """,
            new
            {
                run.Id, run.TenantId, run.Agent, run.AgentVersion, run.AgentDefinition, run.Goal, run.Input, run.Metadata, run.WebhookUrl,
                run.IdempotencyKey, run.CreatedBy, run.RunKeyId, run.ProtectedRunKey, run.RunKeyHash, run.RunKeyPrefix, run.RunKeyScopes,
                run.RunSeconds, run.QueuedEvent, owner, planning, leaseSeconds = lease.TotalSeconds,
            });
        if (created is not null)
        {
            return (created, true);
        }

        var existing = await connection.QuerySingleAsync<RunRow>(
            $"SELECT {RunColumns} FROM runs WHERE tenant_id = @TenantId AND idempotency_key = @IdempotencyKey", new { run.TenantId, run.IdempotencyKey });
        return (existing, false);
    }

    /// <summary>Writes one transition; false when <paramref name="writer"/> no longer holds the run (nothing is written).</summary>
    public async Task<CommitResult?> CommitAsync(Guid runId, RunWriter writer, RunChange change, TimeSpan lease)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<CommitResult>("""
            WITH run AS (
                UPDATE runs SET
                    event_seq = event_seq + @eventCount,
                    state = COALESCE(@state, state),
                    output = COALESCE(@output::jsonb, output),
                    plan_id = COALESCE(@planId, plan_id),
                    plan_revision = COALESCE(@planRevision, plan_revision),
                    replans = replans + @replans,
                    cost_usd = cost_usd + @costUsd,
                    prompt_tokens = prompt_tokens + @promptTokens,
                    completion_tokens = completion_tokens + @completionTokens,
                    cancel_requested = cancel_requested AND NOT @clearCancel,
                    finished_at = CASE WHEN @finished THEN now() WHEN @reopen::int IS NOT NULL THEN NULL ELSE finished_at END,
                    deadline = CASE WHEN @reopen::int IS NOT NULL THEN now() + make_interval(secs => @reopen::int) ELSE deadline END,
                    reason = CASE WHEN @reopen::int IS NOT NULL THEN NULL ELSE COALESCE(@reason, reason) END,
                    run_key_id = COALESCE(@newKeyId, run_key_id),
                    run_key = COALESCE(@newKey, run_key),
                    lease_owner = CASE WHEN @release OR @owner::text IS NULL THEN NULL ELSE lease_owner END,
                    lease_until = CASE WHEN @release OR @owner::text IS NULL THEN NULL ELSE now() + make_interval(secs => @leaseSeconds) END,
                    wake_at = COALESCE(@wakeAt::timestamptz, wake_at),
                    updated_at = now()
                WHERE id = @runId
                  AND CASE WHEN @owner::text IS NULL THEN (lease_owner IS NULL OR lease_until < now()) AND state = ANY(@fromStates)
                           ELSE lease_owner = @owner END
                RETURNING tenant_id, event_seq, webhook_url, run_key_id, state, deadline, updated_at),
            new_steps AS (
                INSERT INTO run_steps (run_id, id, tenant_id, position, kind, title, instruction, tool, arguments, depends_on, acceptance,
                    compensation, state, attempts, started_at)
                SELECT @runId, s.id, run.tenant_id, s.position, s.kind, s.title, s.instruction, s.tool, s.arguments, s.depends_on, s.acceptance,
                    s.compensation, CASE WHEN s.started THEN 'running' ELSE 'pending' END,
                    CASE WHEN s.started THEN 1 ELSE 0 END, CASE WHEN s.started THEN now() END
                FROM run, jsonb_to_recordset(@newSteps::jsonb) AS s(id text, position int, kind text, title text, instruction text, tool text,
                    arguments jsonb, depends_on text[], acceptance text, compensation jsonb, started boolean)
                -- A re-plan replaces a step that has not succeeded; its attempts go on counting, so its calls get new keys.
                ON CONFLICT (run_id, id) DO UPDATE SET
                    position = excluded.position, kind = excluded.kind, title = excluded.title, instruction = excluded.instruction,
                    tool = excluded.tool, arguments = excluded.arguments, depends_on = excluded.depends_on, acceptance = excluded.acceptance,
                    compensation = excluded.compensation, state = excluded.state, attempts = run_steps.attempts + excluded.attempts,
                    output = NULL, error = NULL, replannable = false, invocation_id = NULL, started_at = excluded.started_at, finished_at = NULL
                WHERE run_steps.state <> 'succeeded'),
            changed_steps AS (
                UPDATE run_steps st SET
                    state = COALESCE(c.state, st.state),
                    attempts = COALESCE(c.attempts, st.attempts),
                    attempt_log = CASE WHEN c.attempt IS NULL THEN st.attempt_log ELSE st.attempt_log || jsonb_build_array(c.attempt) END,
                    output = COALESCE(c.output, st.output),
                    error = CASE WHEN c.clear_error THEN NULL ELSE COALESCE(c.error, st.error) END,
                    replannable = COALESCE(c.replannable, st.replannable),
                    compensation_state = CASE WHEN c.clear_compensation THEN NULL ELSE COALESCE(c.compensation_state, st.compensation_state) END,
                    compensation_error = CASE WHEN c.clear_compensation THEN NULL ELSE COALESCE(c.compensation_error, st.compensation_error) END,
                    invocation_id = COALESCE(c.invocation_id, st.invocation_id),
                    cost_usd = st.cost_usd + c.cost_usd,
                    prompt_tokens = st.prompt_tokens + c.prompt_tokens,
                    completion_tokens = st.completion_tokens + c.completion_tokens,
                    started_at = CASE WHEN c.started THEN now() ELSE st.started_at END,
                    finished_at = CASE WHEN c.finished THEN now() ELSE st.finished_at END
                FROM run, jsonb_to_recordset(@stepChanges::jsonb) AS c(id text, state text, attempts int, attempt jsonb, output jsonb, error text,
                    clear_error boolean, replannable boolean, compensation_state text, compensation_error text,
                    clear_compensation boolean, invocation_id uuid, cost_usd numeric, prompt_tokens int, completion_tokens int, started boolean, finished boolean)
                WHERE st.run_id = @runId AND st.id = c.id),
            events AS (
                INSERT INTO run_events (run_id, seq, tenant_id, type, step_id, data)
                SELECT @runId, run.event_seq - @eventCount + e.n, run.tenant_id, e.type, e.step_id, e.data
                FROM run, jsonb_to_recordset(@events::jsonb) AS e(n int, type text, step_id text, data jsonb)),
            webhook AS (
                INSERT INTO outbox (tenant_id, run_id, event_seq, url, payload)
                SELECT run.tenant_id, @runId, run.event_seq, run.webhook_url, @webhook::jsonb
                FROM run WHERE run.webhook_url IS NOT NULL AND @webhook::jsonb IS NOT NULL),
            new_key AS (
                INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, scopes, run_id, expires_at)
                SELECT @newKeyId, run.tenant_id, 'run ' || @runId, @newKeyHash, @newKeyPrefix, @newKeyScopes, @runId, run.deadline + interval '1 hour'
                FROM run WHERE @newKeyId::uuid IS NOT NULL),
            revoked AS (
                UPDATE api_keys SET revoked_at = now()
                FROM run WHERE api_keys.id = run.run_key_id AND @revokeKey AND api_keys.revoked_at IS NULL
                RETURNING api_keys.key_hash)
            SELECT run.event_seq AS LastSeq, run.tenant_id AS TenantId, (SELECT key_hash FROM revoked) AS RevokedKeyHash, run.updated_at AS At FROM run
            """,
            new
            {
                runId,
                writer.Owner,
                fromStates = writer.FromStates,
                eventCount = change.Events.Count,
                state = change.State,
                reason = change.Reason,
                output = change.Output?.ToJsonString(),
                planId = change.PlanId,
                planRevision = change.PlanRevision,
                replans = change.Replans,
                costUsd = change.CostUsd,
                promptTokens = change.PromptTokens,
                completionTokens = change.CompletionTokens,
                clearCancel = change.ClearCancel,
                finished = change.Finished,
                release = change.Release,
                leaseSeconds = lease.TotalSeconds,
                wakeAt = change.WakeAt,
                newSteps = JsonSerializer.Serialize(change.NewSteps.Select(s => new
                {
                    id = s.Id, position = s.Position, kind = s.Kind, title = s.Title, instruction = s.Instruction, tool = s.Tool,
                    arguments = s.Arguments, depends_on = s.DependsOn, acceptance = s.Acceptance, compensation = s.Compensation,
                    started = s.Started,
                })),
                stepChanges = JsonSerializer.Serialize(change.Steps.Select(s => new
                {
                    id = s.Id, state = s.State, attempts = s.Attempts, attempt = s.Attempt, output = s.Output, error = s.Error,
                    clear_error = s.ClearError, replannable = s.Replannable, compensation_state = s.CompensationState,
                    compensation_error = s.CompensationError, clear_compensation = s.ClearCompensation, invocation_id = s.InvocationId, cost_usd = s.CostUsd, prompt_tokens = s.PromptTokens,
                    completion_tokens = s.CompletionTokens, started = s.Started, finished = s.Finished,
                })),
                events = JsonSerializer.Serialize(change.Events.Select((e, i) => new { n = i + 1, type = e.Type, step_id = e.StepId, data = e.Data })),
                webhook = change.Webhook?.ToJsonString(),
                revokeKey = change.RevokeKey,
                reopen = change.Reopen,
                newKeyId = change.NewKey?.Id,
                newKey = change.NewKey?.Protected,
                newKeyHash = change.NewKey?.Hash,
                newKeyPrefix = change.NewKey?.Prefix,
                newKeyScopes = change.NewKey?.Scopes,
            });
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> runs that are due and that nobody holds (never held, released, or whose
    /// holder stopped renewing), in one statement; concurrent claimers skip each other's rows.
    /// </summary>
    public async Task<IReadOnlyList<RunRow>> ClaimAsync(string owner, int limit, TimeSpan lease)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return [.. await connection.QueryAsync<RunRow>($"""
            UPDATE runs SET lease_owner = @owner, lease_until = now() + make_interval(secs => @leaseSeconds), updated_at = now()
            WHERE id IN (
                SELECT id FROM runs
                WHERE state = ANY(@ActiveStates) AND wake_at <= now() AND (lease_owner IS NULL OR lease_until < now())
                ORDER BY wake_at
                LIMIT @limit
                FOR UPDATE SKIP LOCKED)
            RETURNING {RunColumns}
            """, new { owner, limit, leaseSeconds = lease.TotalSeconds, ActiveStates })];
    }

    /// <summary>Renews the leases of the runs a replica works on; answers which it still holds and which are to be cancelled.</summary>
    public async Task<IReadOnlyList<(Guid Id, bool CancelRequested)>> RenewAsync(string owner, IReadOnlyCollection<Guid> runIds, TimeSpan lease)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return [.. await connection.QueryAsync<(Guid, bool)>("""
            UPDATE runs SET lease_until = now() + make_interval(secs => @leaseSeconds)
            WHERE id = ANY(@runIds) AND lease_owner = @owner
            RETURNING id, cancel_requested
            """, new { owner, runIds = runIds.ToArray(), leaseSeconds = lease.TotalSeconds })];
    }

    public async Task<IReadOnlyList<StepRow>> StepsAsync(Guid runId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return [.. await connection.QueryAsync<StepRow>($"SELECT {StepColumns} FROM run_steps WHERE run_id = @runId ORDER BY position", new { runId })];
    }

    public async Task<RunRow?> FindAsync(string tenantId, Guid runId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<RunRow>($"SELECT {RunColumns} FROM runs WHERE id = @runId AND tenant_id = @tenantId", new { runId, tenantId });
    }

    public async Task<IReadOnlyList<RunRow>> ListAsync(string tenantId, RunFilter filter)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return [.. await connection.QueryAsync<RunRow>($"""
            SELECT {RunColumns} FROM runs
            WHERE tenant_id = @tenantId
              AND (@Agent::text IS NULL OR agent = @Agent)
              AND (@State::text IS NULL OR state = @State)
              AND (@Since::timestamptz IS NULL OR created_at >= @Since)
              AND (@Until::timestamptz IS NULL OR created_at < @Until)
              AND (@Before::timestamptz IS NULL OR created_at < @Before)
            ORDER BY created_at DESC
            LIMIT @Limit
            """, new { tenantId, filter.Agent, filter.State, filter.Since, filter.Until, filter.Before, filter.Limit })];
    }

    public async Task<IReadOnlyList<RunEvent>> EventsAsync(Guid runId, long afterSeq, int limit = 1000)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<(int Seq, string Type, string? StepId, string Data, DateTime At)>("""
            SELECT seq, type, step_id, data::text, at FROM run_events WHERE run_id = @runId AND seq > @afterSeq ORDER BY seq LIMIT @limit
            """, new { runId, afterSeq, limit });
        return [.. rows.Select(r => new RunEvent(r.Seq, r.Type, r.StepId, JsonDocument.Parse(r.Data).RootElement.Clone(), r.At))];
    }

    /// <summary>Makes a parked run due now, so the next claim takes it up.</summary>
    public async Task WakeAsync(Guid runId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(
            "UPDATE runs SET wake_at = now() WHERE id = @runId AND state = 'waiting_approval' AND wake_at > now()", new { runId });
    }

    /// <summary>Asks the replica holding a run to cancel it; answers the run's state, or null when there is no such run.</summary>
    public async Task<string?> RequestCancelAsync(string tenantId, Guid runId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<string>("""
            UPDATE runs SET cancel_requested = true, wake_at = now(), updated_at = now()
            WHERE id = @runId AND tenant_id = @tenantId
            RETURNING state
            """, new { runId, tenantId });
    }
}

/// <summary>What a commit wrote: its last event's sequence number, and when (the time its events carry).</summary>
public sealed record CommitResult(int LastSeq, string TenantId, string? RevokedKeyHash, DateTime At);

public sealed record RunFilter(string? Agent, string? State, DateTime? Since, DateTime? Until, DateTime? Before, int Limit);

public sealed record NewRun(
    Guid Id, string TenantId, string Agent, int AgentVersion, string AgentDefinition, string Goal, string? Input, string? Metadata,
    string? WebhookUrl, string? IdempotencyKey, string CreatedBy, Guid RunKeyId, string ProtectedRunKey, string RunKeyHash, string RunKeyPrefix,
    string[] RunKeyScopes, int RunSeconds, string QueuedEvent);
