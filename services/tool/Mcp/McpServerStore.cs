using Dapper;
using Npgsql;

namespace Platform.Tool.Mcp;

public sealed class McpServerStore(NpgsqlDataSource dataSource)
{
    public async Task PutAsync(McpServerRow server)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync("""
            INSERT INTO mcp_servers (tenant_id, name, transport, command, arguments, url)
            VALUES (@TenantId, @Name, @Transport, @Command, @Arguments, @Url)
            ON CONFLICT (tenant_id, name) DO UPDATE
            SET transport = excluded.transport, command = excluded.command, arguments = excluded.arguments, url = excluded.url
            """, server);
    }

    public async Task<McpServerRow?> FindAsync(string tenantId, string name)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return await connection.QuerySingleOrDefaultAsync<McpServerRow>(
            "SELECT tenant_id, name, transport, command, arguments, url FROM mcp_servers WHERE tenant_id = @tenantId AND name = @name", new { tenantId, name });
    }

    public async Task<IReadOnlyList<McpServerRow>> ListAsync(string tenantId)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await connection.QueryAsync<McpServerRow>(
            "SELECT tenant_id, name, transport, command, arguments, url FROM mcp_servers WHERE tenant_id = @tenantId ORDER BY name", new { tenantId })).AsList();
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
}
