using Platform.Dashboard.Session;

namespace Platform.Dashboard.Clients;

/// <summary>The tool service's registry, MCP servers, invocations and approvals, called with the signed-in operator's key.</summary>
public sealed class ToolClient(HttpClient http, SignedInKey key) : ServiceClient(http, key, "tool service")
{
    public async Task<IReadOnlyList<ToolApproval>> PendingApprovalsAsync(CancellationToken cancellationToken) =>
        await SendAsync<IReadOnlyList<ToolApproval>>(HttpMethod.Get, "/v1/approvals?status=pending", cancellationToken) ?? [];

    public Task DecideAsync(Guid id, bool approve, string? reason, CancellationToken cancellationToken) =>
        SendAsync<System.Text.Json.JsonElement>(HttpMethod.Post, $"/v1/approvals/{id}/{(approve ? "approve" : "deny")}", cancellationToken, new { reason });

    public async Task<IReadOnlyList<ToolInfo>> ToolsAsync(CancellationToken cancellationToken) =>
        await SendAsync<IReadOnlyList<ToolInfo>>(HttpMethod.Get, "/v1/tools", cancellationToken) ?? [];

    public async Task<IReadOnlyList<McpServer>> McpServersAsync(CancellationToken cancellationToken) =>
        await SendAsync<IReadOnlyList<McpServer>>(HttpMethod.Get, "/v1/mcp-servers", cancellationToken) ?? [];

    public Task<Invocation?> InvocationAsync(Guid id, CancellationToken cancellationToken) =>
        SendAsync<Invocation>(HttpMethod.Get, $"/v1/invocations/{id}", cancellationToken, options: new(NotFoundIsNull: true));

    public async Task<IReadOnlyList<Invocation>> InvocationsAsync(int limit, CancellationToken cancellationToken) =>
        await SendAsync<IReadOnlyList<Invocation>>(HttpMethod.Get, $"/v1/invocations?limit={limit}", cancellationToken) ?? [];
}
