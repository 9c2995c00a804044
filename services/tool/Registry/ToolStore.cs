using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tool.Registry;

public sealed class ToolStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "name, description, kind, side_effect, parameters::text, version, created_at, updated_at";

    /// <summary>Registers a tool, or replaces its definition and bumps its version.</summary>
    public async Task<ToolDto> UpsertAsync(string tenantId, ToolRequest request)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<ToolRow>($"""
            INSERT INTO tools (tenant_id, name, description, kind, side_effect, parameters)
            VALUES (@tenantId, @Name, @Description, 'http', @SideEffect, @parameters::jsonb)
            ON CONFLICT (tenant_id, name) DO UPDATE
            SET description = excluded.description, side_effect = excluded.side_effect, parameters = excluded.parameters,
                version = tools.version + 1, updated_at = now()
            RETURNING {Columns}
            """, new { tenantId, request.Name, request.Description, request.SideEffect, parameters = request.Parameters!.Value.GetRawText() });
        return row.AsDto();
    }

    public async Task<IReadOnlyList<ToolDto>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<ToolRow>($"SELECT {Columns} FROM tools WHERE tenant_id = @tenantId ORDER BY name", new { tenantId });
        return rows.Select(r => r.AsDto()).ToList();
    }

    public async Task<ToolDto?> FindAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<ToolRow>(
            $"SELECT {Columns} FROM tools WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name });
        return row?.AsDto();
    }

    public async Task<bool> DeleteAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteAsync("DELETE FROM tools WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }) > 0;
    }

    private sealed record ToolRow(
        string Name, string Description, string Kind, string SideEffect, string Parameters, int Version, DateTime CreatedAt, DateTime UpdatedAt)
    {
        public ToolDto AsDto() => new(Name, Description, Kind, SideEffect, JsonDocument.Parse(Parameters).RootElement.Clone(), Version, CreatedAt, UpdatedAt);
    }
}

public sealed record ToolRequest(string? Name, string? Description, string? SideEffect, JsonElement? Parameters);

public sealed record ToolDto(
    string Name, string Description, string Kind, string SideEffect, JsonElement Parameters, int Version, DateTime CreatedAt, DateTime UpdatedAt);
