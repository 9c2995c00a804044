using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;

namespace Platform.Planning.Plans;

/// <summary>
/// Plans and their revisions. Nothing is updated in place: a plan row and its first revision are written together,
/// each re-plan adds a revision, and the latest revision is the plan's current form.
/// </summary>
public sealed class PlanStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    private const string Columns = """
        p.id, p.goal, p.context, p.model, p.tools::text, p.constraints::text, p.created_at,
        r.revision, r.steps::text, r.layers::text, r.critical_path::text, r.totals::text, r.planner::text, r.completed::text,
        r.failed::text, r.changes::text, r.created_at AS revised_at
        """;

    /// <summary>
    /// Stores a plan as its revision 1, both rows in one statement. With <paramref name="idempotencyKey"/> already
    /// used by the tenant, stores nothing and answers the plan that key made (<c>Created</c> false).
    /// </summary>
    public async Task<(PlanDto Plan, bool Created)> CreateAsync(string tenantId, NewPlan plan, NewRevision revision, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var id = Guid.CreateVersion7();
        var stored = await connection.QuerySingleOrDefaultAsync<StoredTimes>(new CommandDefinition("""
            WITH plan AS (
                INSERT INTO plans (id, tenant_id, goal, context, model, tools, constraints, idempotency_key)
                VALUES (@id, @tenantId, @Goal, @Context, @Model, @tools::jsonb, @constraints::jsonb, @idempotencyKey)
                ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
                RETURNING id, created_at),
            revision AS (
                INSERT INTO plan_revisions (plan_id, revision, tenant_id, steps, layers, critical_path, totals, planner, completed, failed, changes)
                SELECT plan.id, 1, @tenantId, @steps::jsonb, @layers::jsonb, @criticalPath::jsonb, @totals::jsonb, @planner::jsonb,
                       @completed::jsonb, @failed::jsonb, @changes::jsonb
                FROM plan
                RETURNING created_at)
            SELECT plan.created_at AS "CreatedAt", revision.created_at AS "RevisedAt" FROM plan, revision
            """, RevisionParameters(revision, new
        {
            id,
            tenantId,
            plan.Goal,
            plan.Context,
            plan.Model,
            tools = Serialize(plan.Tools),
            constraints = Serialize(plan.Constraints),
            idempotencyKey,
        }), cancellationToken: cancellationToken));
        if (stored is not { } times)
        {
            // The key was taken: the statement wrote nothing.
            return (await FindByKeyAsync(tenantId, idempotencyKey!, cancellationToken) ?? throw new InvalidOperationException("An idempotency key's plan vanished."), false);
        }

        return (AsDto(id, plan, 1, revision, times.CreatedAt, times.RevisedAt), true);
    }

    /// <summary>
    /// The next revision of <paramref name="latest"/>; null when another revision was added first. With
    /// <paramref name="idempotencyKey"/> already used by the tenant, answers the revision that key made.
    /// </summary>
    public async Task<(PlanDto Plan, bool Created)?> AddRevisionAsync(string tenantId, PlanDto latest, NewRevision revision, string? idempotencyKey,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            var revisedAt = await InsertRevisionAsync(connection, transaction, tenantId, latest.Id, latest.Revision + 1, revision, idempotencyKey, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            var plan = new NewPlan(latest.Goal, latest.Context, latest.Model, latest.Tools, latest.Constraints);
            return (AsDto(latest.Id, plan, latest.Revision + 1, revision, latest.CreatedAt, revisedAt), true);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return idempotencyKey is not null && await FindRevisionByKeyAsync(tenantId, idempotencyKey, cancellationToken) is { } made ? (made, false) : null;
        }
    }

    /// <summary>The plan, at its first revision, that a create with <paramref name="idempotencyKey"/> made.</summary>
    public Task<PlanDto?> FindByKeyAsync(string tenantId, string idempotencyKey, CancellationToken cancellationToken) => FindOneAsync("""
        FROM plans p
        JOIN plan_revisions r ON r.plan_id = p.id AND r.revision = 1
        WHERE p.tenant_id = @tenantId AND p.idempotency_key = @idempotencyKey
        """, new { tenantId, idempotencyKey }, cancellationToken);

    /// <summary>The revision that a re-plan with <paramref name="idempotencyKey"/> made.</summary>
    public Task<PlanDto?> FindRevisionByKeyAsync(string tenantId, string idempotencyKey, CancellationToken cancellationToken) => FindOneAsync("""
        FROM plan_revisions r
        JOIN plans p ON p.id = r.plan_id
        WHERE r.tenant_id = @tenantId AND r.idempotency_key = @idempotencyKey
        """, new { tenantId, idempotencyKey }, cancellationToken);

    public Task<PlanDto?> FindAsync(string tenantId, Guid id, CancellationToken cancellationToken) => FindOneAsync("""
        FROM plans p
        CROSS JOIN LATERAL (SELECT * FROM plan_revisions WHERE plan_id = p.id ORDER BY revision DESC LIMIT 1) r
        WHERE p.tenant_id = @tenantId AND p.id = @id
        """, new { tenantId, id }, cancellationToken);

    /// <summary>The tenant's plans, newest first (ids are time-ordered), each at its latest revision.</summary>
    public async Task<IReadOnlyList<PlanDto>> ListAsync(string tenantId, int limit, Guid? before, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<PlanRow>(new CommandDefinition($"""
            SELECT {Columns}
            FROM plans p
            CROSS JOIN LATERAL (SELECT * FROM plan_revisions WHERE plan_id = p.id ORDER BY revision DESC LIMIT 1) r
            WHERE p.tenant_id = @tenantId AND (@before::uuid IS NULL OR p.id < @before)
            ORDER BY p.id DESC
            LIMIT @limit
            """, new { tenantId, limit, before }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.AsDto())];
    }

    /// <summary>Every revision of a plan, oldest first; null when the tenant has no such plan.</summary>
    public async Task<IReadOnlyList<PlanDto>?> RevisionsAsync(string tenantId, Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<PlanRow>(new CommandDefinition($"""
            SELECT {Columns}
            FROM plans p
            JOIN plan_revisions r ON r.plan_id = p.id
            WHERE p.tenant_id = @tenantId AND p.id = @id
            ORDER BY r.revision
            """, new { tenantId, id }, cancellationToken: cancellationToken))).ToList();
        return rows.Count == 0 ? null : [.. rows.Select(r => r.AsDto())];
    }

    public Task<PlanDto?> RevisionAsync(string tenantId, Guid id, int revision, CancellationToken cancellationToken) => FindOneAsync("""
        FROM plans p
        JOIN plan_revisions r ON r.plan_id = p.id
        WHERE p.tenant_id = @tenantId AND p.id = @id AND r.revision = @revision
        """, new { tenantId, id, revision }, cancellationToken);

    /// <summary>One plan at one revision: <paramref name="from"/> joins <c>plans p</c> and <c>plan_revisions r</c> and filters them.</summary>
    private async Task<PlanDto?> FindOneAsync(string from, object parameters, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<PlanRow>(new CommandDefinition($"SELECT {Columns}\n{from}", parameters, cancellationToken: cancellationToken));
        return row?.AsDto();
    }

    private static async Task<DateTime> InsertRevisionAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string tenantId, Guid planId, int number,
        NewRevision revision, string? idempotencyKey, CancellationToken cancellationToken) =>
        await connection.ExecuteScalarAsync<DateTime>(new CommandDefinition("""
            INSERT INTO plan_revisions (plan_id, revision, tenant_id, steps, layers, critical_path, totals, planner, completed, failed, changes, idempotency_key)
            VALUES (@planId, @number, @tenantId, @steps::jsonb, @layers::jsonb, @criticalPath::jsonb, @totals::jsonb, @planner::jsonb,
                    @completed::jsonb, @failed::jsonb, @changes::jsonb, @idempotencyKey)
            RETURNING created_at
            """, RevisionParameters(revision, new { planId, number, tenantId, idempotencyKey }), transaction, cancellationToken: cancellationToken));

    /// <summary>A revision's columns as parameters, beside <paramref name="others"/>.</summary>
    private static DynamicParameters RevisionParameters(NewRevision revision, object others)
    {
        var parameters = new DynamicParameters(others);
        parameters.AddDynamicParams(new
        {
            steps = Serialize(revision.Steps),
            layers = Serialize(revision.Layers),
            criticalPath = Serialize(revision.CriticalPath),
            totals = Serialize(revision.Totals),
            planner = Serialize(revision.Planner),
            completed = Serialize(revision.Completed),
            failed = Serialize(revision.Failed),
            changes = Serialize(revision.Changes),
        });
        return parameters;
    }

    private static string? Serialize<T>(T value) => value is null ? null : JsonSerializer.Serialize(value, Json);

    private static PlanDto AsDto(Guid id, NewPlan plan, int number, NewRevision revision, DateTime createdAt, DateTime revisedAt) => new(
        id, number, plan.Goal, plan.Context, plan.Model, plan.Tools, plan.Constraints, revision.Steps, revision.Layers, revision.CriticalPath,
        revision.Totals, revision.Planner, revision.Completed, revision.Failed, revision.Changes, createdAt, revisedAt);

    private sealed record StoredTimes(DateTime CreatedAt, DateTime RevisedAt);

    private sealed record PlanRow(
        Guid Id, string Goal, string? Context, string Model, string? Tools, string Constraints, DateTime CreatedAt,
        int Revision, string Steps, string Layers, string CriticalPath, string? Totals, string Planner, string Completed,
        string? Failed, string? Changes, DateTime RevisedAt)
    {
        public PlanDto AsDto() => new(
            Id, Revision, Goal, Context, Model,
            Tools is null ? null : JsonSerializer.Deserialize<string[]>(Tools, Json),
            JsonSerializer.Deserialize<ConstraintsDto>(Constraints, Json)!,
            [.. JsonSerializer.Deserialize<StoredStep[]>(Steps, Json)!.Select(s => s.AsStep())],
            JsonSerializer.Deserialize<string[][]>(Layers, Json)!,
            JsonSerializer.Deserialize<string[]>(CriticalPath, Json)!,
            Totals is null ? null : JsonSerializer.Deserialize<PlanTotals>(Totals, Json),
            JsonSerializer.Deserialize<PlannerInfo>(Planner, Json)!,
            JsonSerializer.Deserialize<CompletedStep[]>(Completed, Json)!,
            Failed is null ? null : JsonSerializer.Deserialize<FailedStep>(Failed, Json),
            Changes is null ? null : JsonSerializer.Deserialize<PlanChanges>(Changes, Json),
            CreatedAt,
            RevisedAt);
    }

    /// <summary>A step as stored; plans from before revisions have only id, title, kind and dependsOn.</summary>
    private sealed record StoredStep(
        string Id, string Title, string? Instruction, string Kind, string? Tool, JsonObject? Arguments, string[]? DependsOn, string? Acceptance,
        StepEstimates? Estimates)
    {
        public PlanStep AsStep() => new(Id, Title, Instruction ?? Title, Kind, Tool, Arguments ?? [], DependsOn ?? [], Acceptance, Estimates);
    }
}

public sealed record NewPlan(string Goal, string? Context, string Model, string[]? Tools, ConstraintsDto Constraints);

public sealed record NewRevision(
    PlanStep[] Steps, string[][] Layers, string[] CriticalPath, PlanTotals? Totals, PlannerInfo Planner, CompletedStep[] Completed,
    FailedStep? Failed, PlanChanges? Changes);
