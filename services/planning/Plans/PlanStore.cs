using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Planning.Plans;

public sealed class PlanStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<PlanDto> CreateAsync(string tenantId, PlanRequest request, IReadOnlyList<IReadOnlyList<string>> layers)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<PlanRow>("""
            INSERT INTO plans (id, tenant_id, goal, steps, layers)
            VALUES (@id, @tenantId, @goal, @steps::jsonb, @layers::jsonb)
            RETURNING id, goal, steps::text, layers::text, created_at
            """, new
        {
            id = Guid.CreateVersion7(),
            tenantId,
            goal = request.Goal!.Trim(),
            steps = JsonSerializer.Serialize(request.Steps, Json),
            layers = JsonSerializer.Serialize(layers, Json),
        });
        return row.AsDto();
    }

    public async Task<PlanDto?> FindAsync(string tenantId, Guid id)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<PlanRow>(
            "SELECT id, goal, steps::text, layers::text, created_at FROM plans WHERE tenant_id = @tenantId AND id = @id", new { tenantId, id });
        return row?.AsDto();
    }

    public async Task<IReadOnlyList<PlanDto>> ListAsync(string tenantId, int limit)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<PlanRow>("""
            SELECT id, goal, steps::text, layers::text, created_at FROM plans
            WHERE tenant_id = @tenantId ORDER BY created_at DESC LIMIT @limit
            """, new { tenantId, limit });
        return rows.Select(r => r.AsDto()).ToList();
    }

    private sealed record PlanRow(Guid Id, string Goal, string Steps, string Layers, DateTime CreatedAt)
    {
        public PlanDto AsDto() => new(Id, Goal,
            JsonSerializer.Deserialize<PlanStep[]>(Steps, Json)!,
            JsonSerializer.Deserialize<string[][]>(Layers, Json)!,
            CreatedAt);
    }
}

public sealed record PlanRequest(string? Goal, IReadOnlyList<PlanStep>? Steps);

public sealed record PlanStep(string? Id, string? Title, string? Kind, string[]? DependsOn);

public sealed record PlanDto(Guid Id, string Goal, PlanStep[] Steps, string[][] Layers, DateTime CreatedAt);
