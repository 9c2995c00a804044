using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Platform.Tool.Registry;

namespace Platform.Tool.Builtins;

/// <summary>A per-tenant key-value memory in Postgres, so agents can keep facts between runs.</summary>
public sealed class MemorySetTool(NpgsqlDataSource dataSource) : IBuiltinTool
{
    public ToolDefinition Definition { get; } = Builtin.Define("memory_set",
        "Stores a JSON value under a key in the tenant's memory, replacing any value there.",
        SideEffects.Idempotent,
        """{"type":"object","properties":{"key":{"type":"string","minLength":1,"maxLength":200},"value":{}},"required":["key","value"],"additionalProperties":false}""");

    public async Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync("""
            INSERT INTO memory (tenant_id, key, value) VALUES (@tenantId, @key, @value::jsonb)
            ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = now()
            """, new { tenantId = context.TenantId, key = arguments.GetProperty("key").GetString(), value = arguments.GetProperty("value").GetRawText() });
        return new JsonObject { ["stored"] = true };
    }
}

public sealed class MemoryGetTool(NpgsqlDataSource dataSource) : IBuiltinTool
{
    public ToolDefinition Definition { get; } = Builtin.Define("memory_get",
        "Reads the JSON value stored under a key in the tenant's memory.",
        SideEffects.ReadOnly,
        """{"type":"object","properties":{"key":{"type":"string","minLength":1,"maxLength":200}},"required":["key"],"additionalProperties":false}""");

    public async Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var value = await connection.QuerySingleOrDefaultAsync<string>(
            "SELECT value::text FROM memory WHERE tenant_id = @tenantId AND key = @key",
            new { tenantId = context.TenantId, key = arguments.GetProperty("key").GetString() });
        return new JsonObject { ["found"] = value is not null, ["value"] = value is null ? null : JsonNode.Parse(value) };
    }
}
