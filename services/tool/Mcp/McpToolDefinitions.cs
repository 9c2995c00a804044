using System.Text.RegularExpressions;
using ModelContextProtocol.Client;
using Platform.Tool.Invocations;
using Platform.Tool.Registry;
using Platform.ServiceDefaults.Json;

namespace Platform.Tool.Mcp;

/// <summary>
/// A server's tools as registry entries named <c>mcp.{server}.{tool}</c>. What a server sends is checked as a tenant's
/// tool would be: a tool whose name or argument schema could not be stored or used is skipped and named.
/// </summary>
public static partial class McpToolDefinitions
{
    private const int DefaultTimeoutMs = 60_000;

    public static async Task<(IReadOnlyList<ToolDefinition> Tools, IReadOnlyList<string> Skipped)> FromAsync(string server, IEnumerable<McpClientTool> tools)
    {
        var (definitions, skipped) = (new List<ToolDefinition>(), new List<string>());
        foreach (var tool in tools)
        {
            var problem = !ToolName().IsMatch(tool.Name) ? "its name is not 1 to 128 letters, digits, '_', '-' or '.'"
                : definitions.Any(d => d.Name == $"mcp.{server}.{tool.Name}") ? "the server lists it twice"
                : StorableJson.Problem(tool.JsonSchema) is { } unstorable ? $"its schema cannot be stored ({unstorable.Pointer}: {unstorable.Message})"
                : (await SchemaCheck.CompileAsync(tool.JsonSchema)).Problem;
            if (problem is not null)
            {
                skipped.Add($"'{StorableJson.Text(tool.Name.Length > 128 ? tool.Name[..128] : tool.Name)}': {problem}");
                continue;
            }

            var description = StorableJson.Text(tool.Description ?? tool.Title ?? tool.Name);
            var result = tool.ReturnJsonSchema is { } schema && StorableJson.Problem(schema) is null ? schema.Clone() : (System.Text.Json.JsonElement?)null;
            definitions.Add(new ToolDefinition($"mcp.{server}.{tool.Name}", description.Length > 2000 ? description[..2000] : description, "mcp",
                SideEffectOf(tool.ProtocolTool.Annotations), tool.JsonSchema.Clone(), result, DefaultTimeoutMs, 1, null));
        }

        return (definitions, skipped);
    }

    private static string SideEffectOf(ModelContextProtocol.Protocol.ToolAnnotations? annotations) => annotations switch
    {
        { ReadOnlyHint: true } => SideEffects.ReadOnly,
        { IdempotentHint: true } => SideEffects.Idempotent,
        _ => SideEffects.SideEffecting,
    };

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex ToolName();
}
