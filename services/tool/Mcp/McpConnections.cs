using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Platform.Tool.Builtins;
using Platform.Tool.Registry;

namespace Platform.Tool.Mcp;

/// <summary>
/// One live MCP client per registered server, with the official ModelContextProtocol SDK over stdio or Streamable
/// HTTP. A server that dies is reconnected on the next call; each connection's state is kept for operators to see.
/// </summary>
public sealed class McpConnections(McpServerStore servers, ILoggerFactory loggerFactory) : IAsyncDisposable
{
    private const int DefaultTimeoutMs = 60_000;
    private readonly ConcurrentDictionary<(string Tenant, string Server), Connection> _connections = new();

    public McpServerState State(string tenantId, string server) =>
        _connections.TryGetValue((tenantId, server), out var connection) ? connection.State : new McpServerState("disconnected", null, null);

    /// <summary>Connects (again) and lists the server's tools as registry entries named <c>mcp.{server}.{tool}</c>.</summary>
    public async Task<IReadOnlyList<ToolDefinition>> DiscoverAsync(McpServerRow server, CancellationToken cancellationToken)
    {
        await DisconnectAsync(server.TenantId, server.Name);
        var client = await ClientAsync(server, cancellationToken);
        var tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
        var definitions = tools.Select(t => new ToolDefinition(
            $"mcp.{server.Name}.{t.Name}",
            t.Description ?? t.Title ?? t.Name,
            "mcp",
            SideEffectOf(t.ProtocolTool.Annotations),
            t.JsonSchema.Clone(),
            t.ReturnJsonSchema?.Clone(),
            DefaultTimeoutMs,
            1,
            null)).ToList();
        _connections[(server.TenantId, server.Name)].State = new McpServerState("ready", definitions.Count, null);
        return definitions;
    }

    /// <summary>Calls a tool; if the connection has died, reconnects once and calls again (nothing ran on a dead one).</summary>
    public async Task<JsonNode?> CallAsync(string tenantId, string toolName, JsonElement arguments, CancellationToken cancellationToken)
    {
        var parts = toolName.Split('.', 3);
        var server = await servers.FindAsync(tenantId, parts[1]) ?? throw new ToolFailedException($"The MCP server '{parts[1]}' is not registered.");
        var values = arguments.ValueKind == JsonValueKind.Object
            ? arguments.EnumerateObject().ToDictionary(p => p.Name, p => (object?)p.Value.Clone())
            : [];
        for (var attempt = 1; ; attempt++)
        {
            var client = await ClientAsync(server, cancellationToken);
            try
            {
                var result = await client.CallToolAsync(parts[2], values, cancellationToken: cancellationToken);
                var node = JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions);
                return result.IsError == true
                    ? throw new ToolFailedException($"The MCP tool reported an error: {node?["content"]?.ToJsonString()}")
                    : node;
            }
            catch (Exception e) when (attempt == 1 && e is IOException or ObjectDisposedException or InvalidOperationException
                || (attempt == 1 && e is McpException && client.Completion.IsCompleted))
            {
                MarkFailed(server, e);
                await DisconnectAsync(server.TenantId, server.Name);
            }
        }
    }

    public async Task DisconnectAsync(string tenantId, string server)
    {
        if (_connections.TryRemove((tenantId, server), out var connection) && connection.Client is { } client)
        {
            await client.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in _connections.Values)
        {
            if (connection.Client is { } client)
            {
                await client.DisposeAsync();
            }
        }
    }

    private async Task<McpClient> ClientAsync(McpServerRow server, CancellationToken cancellationToken)
    {
        var connection = _connections.GetOrAdd((server.TenantId, server.Name), _ => new Connection());
        await connection.Gate.WaitAsync(cancellationToken);
        try
        {
            if (connection.Client is { Completion.IsCompleted: false } live)
            {
                return live;
            }

            if (connection.Client is { } dead)
            {
                await dead.DisposeAsync();
            }

            connection.State = new McpServerState("connecting", connection.State.ToolCount, null);
            try
            {
                connection.Client = await McpClient.CreateAsync(Transport(server), loggerFactory: loggerFactory, cancellationToken: cancellationToken);
            }
            catch (Exception e) when (e is IOException or McpException or InvalidOperationException or System.ComponentModel.Win32Exception or HttpRequestException)
            {
                connection.Client = null;
                MarkFailed(server, e);
                throw new ToolFailedException($"Cannot connect to the MCP server '{server.Name}': {e.Message}");
            }

            connection.State = new McpServerState("ready", connection.State.ToolCount, null);
            return connection.Client;
        }
        finally
        {
            connection.Gate.Release();
        }
    }

    private IClientTransport Transport(McpServerRow server) => server.Transport == "stdio"
        ? new StdioClientTransport(new StdioClientTransportOptions { Name = server.Name, Command = server.Command!, Arguments = server.Arguments }, loggerFactory)
        : new HttpClientTransport(new HttpClientTransportOptions { Name = server.Name, Endpoint = new Uri(server.Url!) }, loggerFactory);

    private void MarkFailed(McpServerRow server, Exception e)
    {
        if (_connections.TryGetValue((server.TenantId, server.Name), out var connection))
        {
            connection.State = new McpServerState("failed", connection.State.ToolCount, e.Message);
        }
    }

    private static string SideEffectOf(ModelContextProtocol.Protocol.ToolAnnotations? annotations) => annotations switch
    {
        { ReadOnlyHint: true } => SideEffects.ReadOnly,
        { IdempotentHint: true } => SideEffects.Idempotent,
        _ => SideEffects.SideEffecting,
    };

    private sealed class Connection
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public McpClient? Client { get; set; }

        public McpServerState State { get; set; } = new("connecting", null, null);
    }
}

/// <summary>What operators see of a server: <c>connecting</c>, <c>ready</c>, <c>failed</c> (with why) or <c>disconnected</c>.</summary>
public sealed record McpServerState(string Status, int? ToolCount, string? LastError);
