using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tool.Registry;

/// <summary>The tools a tenant registers, and its policies for any tool.</summary>
public sealed class ToolStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "name, description, kind, side_effect, parameters::text, result_schema::text, http::text, timeout_ms, version";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>Registers a tool, or replaces its definition and bumps its version.</summary>
    public async Task<ToolDefinition> UpsertAsync(string tenantId, ToolDefinition tool)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleAsync<ToolRow>($"""
            INSERT INTO tools (tenant_id, name, description, kind, side_effect, parameters, result_schema, http, timeout_ms)
            VALUES (@tenantId, @Name, @Description, @Kind, @SideEffect, @parameters::jsonb, @resultSchema::jsonb, @http::jsonb, @TimeoutMs)
            ON CONFLICT (tenant_id, name) DO UPDATE
            SET description = excluded.description, side_effect = excluded.side_effect, parameters = excluded.parameters,
                result_schema = excluded.result_schema, http = excluded.http, timeout_ms = excluded.timeout_ms,
                version = tools.version + 1, updated_at = now()
            RETURNING {Columns}
            """, new
        {
            tenantId, tool.Name, tool.Description, tool.Kind, tool.SideEffect, tool.TimeoutMs,
            parameters = tool.Parameters.GetRawText(),
            resultSchema = tool.ResultSchema?.GetRawText(),
            http = tool.Http is null ? null : JsonSerializer.Serialize(tool.Http, Json),
        });
        return row.AsDefinition();
    }

    public async Task<IReadOnlyList<ToolDefinition>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var rows = await connection.QueryAsync<ToolRow>($"SELECT {Columns} FROM tools WHERE tenant_id = @tenantId ORDER BY name", new { tenantId });
        return rows.Select(r => r.AsDefinition()).ToList();
    }

    public async Task<ToolDefinition?> FindAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<ToolRow>(
            $"SELECT {Columns} FROM tools WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name });
        return row?.AsDefinition();
    }

    public async Task<bool> DeleteAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.ExecuteAsync("DELETE FROM tools WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }) > 0;
    }

    public async Task<ToolPolicy> PolicyAsync(string tenantId, string tool)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var row = await connection.QuerySingleOrDefaultAsync<(string? Approval, int? RateLimitPerMinute)>(
            "SELECT approval::text, rate_limit_per_minute FROM tool_policies WHERE tenant_id = @tenantId AND tool = @tool", new { tenantId, tool });
        return row == default ? ToolPolicy.None
            : new ToolPolicy(row.Approval is null ? null : JsonSerializer.Deserialize<ApprovalPolicy>(row.Approval, Json), row.RateLimitPerMinute);
    }

    public async Task PutPolicyAsync(string tenantId, string tool, ToolPolicy policy)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO tool_policies (tenant_id, tool, approval, rate_limit_per_minute)
            VALUES (@tenantId, @tool, @approval::jsonb, @RateLimitPerMinute)
            ON CONFLICT (tenant_id, tool) DO UPDATE
            SET approval = excluded.approval, rate_limit_per_minute = excluded.rate_limit_per_minute, updated_at = now()
            """, new { tenantId, tool, approval = policy.Approval is null ? null : JsonSerializer.Serialize(policy.Approval, Json), policy.RateLimitPerMinute });
    }

    private sealed record ToolRow(string Name, string Description, string Kind, string SideEffect, string Parameters, string? ResultSchema, string? Http,
        int TimeoutMs, int Version)
    {
        public ToolDefinition AsDefinition() => new(Name, Description, Kind, SideEffect,
            JsonDocument.Parse(Parameters).RootElement.Clone(),
            ResultSchema is null ? null : JsonDocument.Parse(ResultSchema).RootElement.Clone(),
            TimeoutMs, Version,
            Http is null ? null : JsonSerializer.Deserialize<HttpBinding>(Http, Json));
    }
}
