using System.Data;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tool.Mcp;

public sealed class McpServerStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "tenant_id, name, transport, command, arguments, url, environment::text AS environment";

    static McpServerStore() => SqlMapper.AddTypeHandler(new EnvironmentHandler());

    public async Task PutAsync(McpServerRow server)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO mcp_servers (tenant_id, name, transport, command, arguments, url, environment)
            VALUES (@TenantId, @Name, @Transport, @Command, @Arguments, @Url, @Environment::jsonb)
            ON CONFLICT (tenant_id, name) DO UPDATE
            SET transport = excluded.transport, command = excluded.command, arguments = excluded.arguments, url = excluded.url,
                environment = excluded.environment
            """, server);
    }

    public async Task<McpServerRow?> FindAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<McpServerRow>(
            $"SELECT {Columns} FROM mcp_servers WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name });
    }

    public async Task<IReadOnlyList<McpServerRow>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<McpServerRow>(
            $"SELECT {Columns} FROM mcp_servers WHERE tenant_id = @tenantId ORDER BY name", new { tenantId })).AsList();
    }

    /// <summary>Removes the server and the tools discovered from it.</summary>
    public async Task<bool> DeleteAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("DELETE FROM tools WHERE tenant_id = @tenantId AND kind = 'mcp' AND name LIKE @prefix",
            new { tenantId, prefix = $"mcp.{name}.%" }, transaction);
        var deleted = await connection.ExecuteAsync("DELETE FROM mcp_servers WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name }, transaction);
        await transaction.CommitAsync();
        return deleted > 0;
    }

    /// <summary>Replaces the tools discovered from a server in one transaction.</summary>
    public async Task ReplaceToolsAsync(string tenantId, string server, IReadOnlyList<Registry.ToolDefinition> tools)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("DELETE FROM tools WHERE tenant_id = @tenantId AND kind = 'mcp' AND name LIKE @prefix",
            new { tenantId, prefix = $"mcp.{server}.%" }, transaction);
        foreach (var tool in tools)
        {
            await connection.ExecuteAsync("""
                INSERT INTO tools (tenant_id, name, description, kind, side_effect, parameters, result_schema, timeout_ms)
                VALUES (@tenantId, @Name, @Description, 'mcp', @SideEffect, @parameters::jsonb, @resultSchema::jsonb, @TimeoutMs)
                """, new { tenantId, tool.Name, tool.Description, tool.SideEffect, tool.TimeoutMs, parameters = tool.Parameters.GetRawText(),
                resultSchema = tool.ResultSchema?.GetRawText() }, transaction);
        }

        await transaction.CommitAsync();
    }

    /// <summary>The <c>environment</c> column: jsonb, written and selected as text.</summary>
    private sealed class EnvironmentHandler : SqlMapper.TypeHandler<Dictionary<string, string>>
    {
        public override Dictionary<string, string> Parse(object value) => JsonSerializer.Deserialize<Dictionary<string, string>>((string)value) ?? [];

        public override void SetValue(IDbDataParameter parameter, Dictionary<string, string>? value) => parameter.Value = JsonSerializer.Serialize(value);
    }
}

/// <summary>A registered server; a class with setters because Dapper reads text[] columns as untyped arrays.</summary>
public sealed class McpServerRow
{
    public string TenantId { get; init; } = "";

    public string Name { get; init; } = "";

    public string Transport { get; init; } = "";

    public string? Command { get; init; }

    public string[] Arguments { get; init; } = [];

    public string? Url { get; init; }

    /// <summary>A stdio server's variables as registered: values may hold <c>{{secret:name}}</c> references.</summary>
    public Dictionary<string, string> Environment { get; init; } = [];
}
