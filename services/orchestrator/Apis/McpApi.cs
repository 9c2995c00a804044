using Platform.ServiceDefaults.Authentication;

namespace Platform.Orchestrator.Apis;

/// <summary>
/// <c>/mcp</c>: the tenant's agents as tools of an MCP server (Streamable HTTP), for a key with the runs scope. An
/// <c>initialize</c> client gets a session (so a cancellation reaches its call), held by the replica that began it;
/// later protocol revisions are served statelessly.
/// </summary>
public static class McpApi
{
    public const string Path = "/mcp";

    public static IEndpointRouteBuilder MapMcpApi(this IEndpointRouteBuilder app)
    {
        app.MapMcp(Path).WithTags("MCP").RequireScope(Scopes.Runs);
        return app;
    }
}
