using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.Tool.Builtins;
using Platform.Tool.Mcp;

namespace Platform.Tool.Apis;

/// <summary>
/// MCP servers whose tools join the registry as <c>mcp.{server}.{tool}</c>. Registering one starts a process (stdio) or
/// reaches a URL from inside the platform, so only platform admins may; any tenant's tools-scoped keys may then call them.
/// </summary>
public static partial class McpServersApi
{
    public static IEndpointRouteBuilder MapMcpServersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/mcp-servers").WithTags("MCP servers").RequireScope(Scopes.Tools);

        api.MapGet("/", ListServers);
        api.MapPut("/{name}", PutServer).RequireScope(Scopes.Admin);
        api.MapPost("/{name}/refresh", RefreshServer).RequireScope(Scopes.Admin);
        api.MapDelete("/{name}", DeleteServer).RequireScope(Scopes.Admin);

        return app;
    }

    public static async Task<Ok<McpServerDto[]>> ListServers(HttpContext context, McpServerStore servers, McpConnections connections)
    {
        var tenantId = context.User.TenantId();
        return TypedResults.Ok((await servers.ListAsync(tenantId)).Select(s => McpServerDto.From(s, connections.State(tenantId, s.Name))).ToArray());
    }

    /// <summary>Registers (or replaces) a server, connects to it and discovers its tools.</summary>
    public static async Task<Results<Ok<McpServerDto>, ValidationProblem, ForbidHttpResult, ProblemHttpResult>> PutServer(
        string name, McpServerRequest request, HttpContext context, McpServerStore servers, McpConnections connections)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Forbid();
        }

        var errors = new Dictionary<string, string[]>();
        if (!ServerName().IsMatch(name))
        {
            errors["name"] = ["1 to 40 lower-case letters, digits, '_' or '-'."];
        }

        if (request.Transport == "stdio" && string.IsNullOrWhiteSpace(request.Command))
        {
            errors["command"] = ["A stdio server needs the command that starts it."];
        }
        else if (request.Transport == "http" && !(Uri.TryCreate(request.Url, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            errors["url"] = ["A Streamable HTTP server needs an absolute http(s) URL."];
        }
        else if (request.Transport is not ("stdio" or "http"))
        {
            errors["transport"] = ["'stdio' or 'http'."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var server = new McpServerRow
        {
            TenantId = context.User.TenantId(), Name = name, Transport = request.Transport!, Command = request.Command, Arguments = request.Args ?? [], Url = request.Url,
        };
        await servers.PutAsync(server);
        return await DiscoverAsync(server, servers, connections, context.RequestAborted);
    }

    public static async Task<Results<Ok<McpServerDto>, NotFound, ProblemHttpResult>> RefreshServer(
        string name, HttpContext context, McpServerStore servers, McpConnections connections)
    {
        if (await servers.FindAsync(context.User.TenantId(), name) is not { } server)
        {
            return TypedResults.NotFound();
        }

        var result = await DiscoverAsync(server, servers, connections, context.RequestAborted);
        return result.Result switch
        {
            Ok<McpServerDto> ok => ok,
            ProblemHttpResult problem => problem,
            _ => throw new InvalidOperationException(),
        };
    }

    public static async Task<Results<NoContent, NotFound>> DeleteServer(string name, HttpContext context, McpServerStore servers, McpConnections connections)
    {
        await connections.DisconnectAsync(context.User.TenantId(), name);
        return await servers.DeleteAsync(context.User.TenantId(), name) ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    private static async Task<Results<Ok<McpServerDto>, ValidationProblem, ForbidHttpResult, ProblemHttpResult>> DiscoverAsync(
        McpServerRow server, McpServerStore servers, McpConnections connections, CancellationToken cancellationToken)
    {
        try
        {
            var tools = await connections.DiscoverAsync(server, cancellationToken);
            await servers.ReplaceToolsAsync(server.TenantId, server.Name, tools);
            return TypedResults.Ok(McpServerDto.From(server, connections.State(server.TenantId, server.Name), tools.Select(t => t.Name).ToArray()));
        }
        catch (ToolFailedException e)
        {
            return TypedResults.Problem(e.Message, statusCode: StatusCodes.Status502BadGateway, title: "MCP server unreachable");
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,39}$")]
    private static partial Regex ServerName();
}

public sealed record McpServerRequest(string? Transport, string? Command, string[]? Args, string? Url);

public sealed record McpServerDto(string Name, string Transport, string? Command, string[] Args, string? Url, McpServerState State, string[]? Tools)
{
    public static McpServerDto From(McpServerRow server, McpServerState state, string[]? tools = null) =>
        new(server.Name, server.Transport, server.Command, server.Arguments, server.Url, state, tools);
}
