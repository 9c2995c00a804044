using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Platform.ServiceDefaults.Net;
using Platform.Tool.Builtins;
using Platform.Tool.Net;
using Platform.Tool.Registry;

namespace Platform.Tool.Mcp;

/// <summary>
/// One live MCP client per registered server, with the official ModelContextProtocol SDK over stdio or Streamable
/// HTTP. A server that dies is reconnected on the next call; each connection's state is kept for operators to see.
/// </summary>
public sealed class McpConnections(McpServerStore servers, HttpAllowlist allowlist, SecretStore secrets, ILoggerFactory loggerFactory) : IAsyncDisposable
{
    /// <summary>A stdio server's <c>PATH</c> unless its registration names one, so <c>#!/usr/bin/env node</c> scripts start.</summary>
    public const string DefaultPath = "/usr/local/bin:/usr/bin:/bin";

    private static readonly TimeSpan InitializationTimeout = TimeSpan.FromSeconds(20);
    private readonly ConcurrentDictionary<(string Tenant, string Server), Connection> _connections = new();

    public McpServerState State(string tenantId, string server) =>
        _connections.TryGetValue((tenantId, server), out var connection) ? connection.State : new McpServerState("disconnected", null, null);

    /// <summary>Connects (again) and lists the server's tools as registry entries named <c>mcp.{server}.{tool}</c>.</summary>
    public async Task<IReadOnlyList<ToolDefinition>> DiscoverAsync(McpServerRow server, CancellationToken cancellationToken)
    {
        await DisconnectAsync(server.TenantId, server.Name);
        var client = await ClientAsync(server, cancellationToken);
        IList<McpClientTool> tools;
        try
        {
            tools = await client.ListToolsAsync(cancellationToken: cancellationToken);
        }
        catch (Exception e) when (IsServerFailure(e))
        {
            MarkFailed(server, e);
            throw new ToolFailedException($"The MCP server '{server.Name}' did not list its tools: {Reason(e)}", e);
        }

        var (definitions, skipped) = await McpToolDefinitions.FromAsync(server.Name, tools);
        if (_connections.TryGetValue((server.TenantId, server.Name), out var connection))
        {
            connection.State = new McpServerState("ready", definitions.Count, skipped.Count == 0 ? null : $"Skipped tools: {string.Join("; ", skipped.Take(20))}");
        }

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
            catch (Exception e) when (attempt == 1 && e is IOException or ObjectDisposedException or InvalidOperationException or HttpRequestException
                || (attempt == 1 && e is McpException && client.Completion.IsCompleted))
            {
                MarkFailed(server, e);
                await DisconnectAsync(server.TenantId, server.Name);
            }
            catch (Exception e) when (IsServerFailure(e))
            {
                throw new ToolFailedException($"The MCP server '{server.Name}' failed the call: {Reason(e)}", e);
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
            IClientTransport transport;
            try
            {
                transport = await TransportAsync(server);
            }
            catch (ToolFailedException e)
            {
                MarkFailed(server, e);
                throw;
            }

            try
            {
                connection.Client = await McpClient.CreateAsync(transport, new McpClientOptions { InitializationTimeout = InitializationTimeout }, loggerFactory, cancellationToken);
            }
            catch (Exception e) when (IsServerFailure(e) || e is System.ComponentModel.Win32Exception || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                connection.Client = null;
                MarkFailed(server, e);
                if (transport is IAsyncDisposable disposable)
                {
                    await disposable.DisposeAsync();
                }

                throw new ToolFailedException($"Cannot connect to the MCP server '{server.Name}': {Reason(e)}", e);
            }

            connection.State = new McpServerState("ready", connection.State.ToolCount, null);
            return connection.Client;
        }
        finally
        {
            connection.Gate.Release();
        }
    }

    /// <summary>
    /// A stdio server's process, or a Streamable HTTP server reached through the <see cref="OutboundGuard"/> with the
    /// registering tenant's allowlist, as its HTTP tools are: a private or loopback address is refused unless listed.
    /// The process starts with an empty environment plus <see cref="DefaultPath"/> and the registration's variables, so
    /// none of this service's own (connection strings, the secrets key) reaches a server someone else wrote.
    /// </summary>
    private async Task<IClientTransport> TransportAsync(McpServerRow server)
    {
        if (server.Transport == "stdio")
        {
            var environment = new Dictionary<string, string?>(StringComparer.Ordinal) { ["PATH"] = DefaultPath };
            foreach (var (name, value) in await secrets.ResolveAsync(server.TenantId, server.Environment) ?? [])
            {
                environment[name] = value;
            }

            return new StdioClientTransport(new StdioClientTransportOptions
            {
                Name = server.Name, Command = server.Command!, Arguments = server.Arguments,
                InheritEnvironmentVariables = false, EnvironmentVariables = environment,
            }, loggerFactory);
        }

        var http = new HttpClient(OutboundGuard.CreateHandler(await allowlist.PolicyAsync(server.TenantId)));
        return new HttpClientTransport(new HttpClientTransportOptions
        {
            Name = server.Name, Endpoint = new Uri(server.Url!), TransportMode = HttpTransportMode.StreamableHttp,
        }, http, loggerFactory, ownsHttpClient: true);
    }

    private void MarkFailed(McpServerRow server, Exception e)
    {
        if (_connections.TryGetValue((server.TenantId, server.Name), out var connection))
        {
            connection.State = new McpServerState("failed", connection.State.ToolCount, Reason(e));
        }
    }

    /// <summary>What a server (or the way to it) can do wrong, as opposed to a bug here.</summary>
    private static bool IsServerFailure(Exception e) =>
        e is IOException or McpException or InvalidOperationException or HttpRequestException or TimeoutException or JsonException or ObjectDisposedException;

    /// <summary>Why, in words: the guard's refusal is named as such, since no request was made.</summary>
    private static string Reason(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is BlockedRequestException blocked)
            {
                return $"Refused address: {blocked.Message}";
            }
        }

        return e.Message;
    }

    private sealed class Connection
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public McpClient? Client { get; set; }

        public McpServerState State { get; set; } = new("connecting", null, null);
    }
}

/// <summary>What operators see of a server: <c>connecting</c>, <c>ready</c>, <c>failed</c> (with why) or <c>disconnected</c>.</summary>
public sealed record McpServerState(string Status, int? ToolCount, string? LastError);
