using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.Tool.Builtins;
using Platform.Tool.Mcp;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Net;

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

    /// <summary>
    /// Registers (or replaces) a server, connects to it and discovers its tools. The registration is kept when the
    /// server cannot be reached (or its address is refused): the answer shows the server's state as failed, with why,
    /// and a refresh tries again.
    /// </summary>
    public static async Task<Results<Ok<McpServerDto>, ValidationProblem, ForbidHttpResult>> PutServer(
        string name, McpServerRequest request, HttpContext context, McpServerStore servers, McpConnections connections)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Forbid();
        }

        if (Problems(name, request) is { Count: > 0 } errors)
        {
            return ValidationProblems.For(errors);
        }

        var server = new McpServerRow
        {
            TenantId = context.User.TenantId(), Name = name, Transport = request.Transport!, Command = request.Command, Arguments = request.Args ?? [], Url = request.Url,
            Environment = request.Environment ?? [],
        };
        await servers.PutAsync(server);
        return TypedResults.Ok(await DiscoverAsync(server, servers, connections, context.RequestAborted));
    }

    public static async Task<Results<Ok<McpServerDto>, NotFound>> RefreshServer(string name, HttpContext context, McpServerStore servers, McpConnections connections) =>
        await servers.FindAsync(context.User.TenantId(), name) is { } server
            ? TypedResults.Ok(await DiscoverAsync(server, servers, connections, context.RequestAborted))
            : TypedResults.NotFound();

    public static async Task<Results<NoContent, NotFound>> DeleteServer(string name, HttpContext context, McpServerStore servers, McpConnections connections)
    {
        await connections.DisconnectAsync(context.User.TenantId(), name);
        return await servers.DeleteAsync(context.User.TenantId(), name) ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    private static Dictionary<string, string[]> Problems(string name, McpServerRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ServerName().IsMatch(name))
        {
            errors["name"] = ["1 to 40 lower-case letters, digits, '_' or '-'."];
        }

        if (request.Transport is not ("stdio" or "http"))
        {
            errors["transport"] = ["'stdio' or 'http'."];
        }
        else if (request.Transport == "stdio" && (string.IsNullOrWhiteSpace(request.Command) || request.Command.Length > 1000))
        {
            errors["command"] = ["A stdio server needs the command that starts it (at most 1000 characters)."];
        }
        else if (request.Transport == "http" && HttpUrl.Problem(request.Url) is { } urlProblem)
        {
            errors["url"] = [$"A Streamable HTTP server needs its URL. {urlProblem}"];
        }

        if (request.Args is { } args && (args.Length > 100 || args.Any(a => a is not { Length: <= 4000 })))
        {
            errors["args"] = ["At most 100 arguments of at most 4000 characters each."];
        }

        if (EnvironmentProblem(request) is { } environment)
        {
            errors["environment"] = [environment];
        }

        return errors;
    }

    /// <summary>Variables for a stdio server's process, which inherits none of the tool service's own.</summary>
    private static string? EnvironmentProblem(McpServerRequest request)
    {
        if (request.Environment is not { Count: > 0 } environment)
        {
            return null;
        }

        if (request.Transport != "stdio")
        {
            return "Only a stdio server's process has an environment.";
        }

        if (environment.Count > 50)
        {
            return "At most 50 variables.";
        }

        foreach (var (name, value) in environment)
        {
            if (!VariableName().IsMatch(name))
            {
                return $"'{(name.Length > 40 ? name[..40] + "…" : name)}' is not a variable name: a letter or '_', then up to 127 letters, digits or '_'.";
            }

            if (value is not { Length: <= 4000 })
            {
                return $"The value of '{name}' must be a string of at most 4000 characters.";
            }
        }

        return null;
    }

    private static async Task<McpServerDto> DiscoverAsync(McpServerRow server, McpServerStore servers, McpConnections connections, CancellationToken cancellationToken)
    {
        try
        {
            var tools = await connections.DiscoverAsync(server, cancellationToken);
            await servers.ReplaceToolsAsync(server.TenantId, server.Name, tools);
            return McpServerDto.From(server, connections.State(server.TenantId, server.Name), tools.Select(t => t.Name).ToArray());
        }
        catch (ToolFailedException)
        {
            return McpServerDto.From(server, connections.State(server.TenantId, server.Name));
        }
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,39}$")]
    private static partial Regex ServerName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
    private static partial Regex VariableName();
}

/// <summary>
/// A server to register. <c>environment</c> is every variable a stdio server's process gets besides a minimal
/// <c>PATH</c>; its values may reference the tenant's secrets as <c>{{secret:name}}</c>.
/// </summary>
public sealed record McpServerRequest(string? Transport, string? Command, string[]? Args, string? Url, Dictionary<string, string>? Environment = null);

/// <summary>A server as the API shows it: the names of its variables, never their values (they often hold credentials).</summary>
public sealed record McpServerDto(string Name, string Transport, string? Command, string[] Args, string? Url, string[] Environment, McpServerState State, string[]? Tools)
{
    public static McpServerDto From(McpServerRow server, McpServerState state, string[]? tools = null) =>
        new(server.Name, server.Transport, server.Command, server.Arguments, server.Url, [.. server.Environment.Keys.Order(StringComparer.Ordinal)], state, tools);
}
