using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.Tool.Registry;

namespace Platform.Tool.Apis;

public static partial class ToolsApi
{
    public static IEndpointRouteBuilder MapToolsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tools").WithTags("Tools").RequireScope(Scopes.Tools);

        api.MapGet("/", ListTools);
        api.MapGet("/{name}", GetTool);
        api.MapPut("/{name}", PutTool);
        api.MapDelete("/{name}", DeleteTool);
        api.MapPut("/{name}/policy", PutPolicy).RequireScope(Scopes.Admin);
        api.MapPost("/import/openapi", ImportOpenApi);

        return app;
    }

    /// <summary>Every tool the tenant may call; <c>?format=openai</c> gives function-tool definitions for the model gateway.</summary>
    public static async Task<IResult> ListTools(HttpContext context, ToolCatalog catalog, string? format)
    {
        var tools = await catalog.ListAsync(context.User.TenantId());
        return format == "openai"
            ? TypedResults.Ok(tools.Select(t => new { type = "function", function = new { name = OpenAiName(t.Name), description = t.Description, parameters = t.Parameters } }))
            : TypedResults.Ok(tools.Select(ToolDto.From));
    }

    public static async Task<Results<Ok<ToolDto>, NotFound>> GetTool(string name, HttpContext context, ToolCatalog catalog) =>
        await catalog.FindAsync(context.User.TenantId(), name) is { } tool ? TypedResults.Ok(ToolDto.From(tool)) : TypedResults.NotFound();

    /// <summary>Registers or updates an HTTP tool of the caller's tenant.</summary>
    public static async Task<Results<Ok<ToolDto>, ValidationProblem>> PutTool(string name, ToolRequest request, HttpContext context, ToolStore tools)
    {
        var errors = new Dictionary<string, string[]>();
        if (!HttpToolName().IsMatch(name))
        {
            errors["name"] = ["A registered HTTP tool is named 'http.<name>': 1 to 64 lower-case letters, digits, '_' or '-' after the prefix."];
        }

        if (string.IsNullOrWhiteSpace(request.Description) || request.Description.Length > 2000)
        {
            errors["description"] = ["A description is required (at most 2000 characters): the model chooses tools by it."];
        }

        if (request.SideEffect is null || !SideEffects.All.Contains(request.SideEffect))
        {
            errors["sideEffect"] = [$"One of: {string.Join(", ", SideEffects.All)}."];
        }

        if (request.Parameters is not { ValueKind: JsonValueKind.Object } parameters
            || !parameters.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object")
        {
            errors["parameters"] = ["A JSON Schema object whose type is \"object\"."];
        }

        if (request.Http is not { } http || !Uri.TryCreate(http.Url?.Replace("{", "", StringComparison.Ordinal).Replace("}", "", StringComparison.Ordinal), UriKind.Absolute, out var url)
            || url.Scheme is not ("http" or "https") || http.Method?.ToUpperInvariant() is not ("GET" or "POST" or "PUT" or "PATCH" or "DELETE"))
        {
            errors["http"] = ["An http binding with a method (GET, POST, PUT, PATCH, DELETE) and an absolute http(s) url, e.g. https://api.example.com/items/{id}."];
        }

        if (request.TimeoutMs is < 100 or > 600_000)
        {
            errors["timeoutMs"] = ["From 100 to 600000 milliseconds."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var tool = await tools.UpsertAsync(context.User.TenantId(), new ToolDefinition(name, request.Description!, "http", request.SideEffect!,
            request.Parameters!.Value, request.ResultSchema, request.TimeoutMs ?? 30_000, 1, request.Http));
        return TypedResults.Ok(ToolDto.From(tool));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteTool(string name, HttpContext context, ToolStore tools) =>
        await tools.DeleteAsync(context.User.TenantId(), name) ? TypedResults.NoContent() : TypedResults.NotFound();

    /// <summary>Sets the tenant's approval policy and rate limit for a tool, built-in or registered.</summary>
    public static async Task<Results<NoContent, NotFound, ValidationProblem>> PutPolicy(string name, ToolPolicy policy, HttpContext context, ToolCatalog catalog, ToolStore tools)
    {
        if (await catalog.FindAsync(context.User.TenantId(), name) is null)
        {
            return TypedResults.NotFound();
        }

        foreach (var rule in policy.Approval?.When ?? [])
        {
            if (rule?.Pointer is null || (rule.Pointer.Length > 0 && !rule.Pointer.StartsWith('/')) || rule.Pattern is null)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["approval.when"] = ["Each rule has a JSON pointer ('' or '/…') and a pattern."] });
            }

            try
            {
                _ = new Regex(rule.Pattern, RegexOptions.None, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException e)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["approval.when"] = [$"'{rule.Pattern}' is not a valid pattern: {e.Message}"] });
            }
        }

        if (policy.RateLimitPerMinute is <= 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["rateLimitPerMinute"] = ["A positive number of calls a minute."] });
        }

        await tools.PutPolicyAsync(context.User.TenantId(), name, policy);
        return TypedResults.NoContent();
    }

    /// <summary>Imports an OpenAPI 3 document as one HTTP tool per operation, named <c>http.{prefix}{operationId}</c>.</summary>
    public static async Task<Results<Ok<ImportedToolsDto>, ValidationProblem>> ImportOpenApi(OpenApiImportRequest request, HttpContext context, ToolStore tools)
    {
        if (request.Document is not System.Text.Json.Nodes.JsonObject document || request.Prefix is { } prefix && !ImportPrefix().IsMatch(prefix))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["document"] = ["An OpenAPI 3 document as a JSON object, and an optional prefix of lower-case letters, digits, '_' or '-' ending in '_'."],
            });
        }

        IReadOnlyList<ToolDefinition> imported;
        IReadOnlyList<string> problems;
        try
        {
            (imported, problems) = OpenApiImporter.Import(document, request.Prefix ?? "", request.BaseUrl);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["document"] = [$"Not a readable OpenAPI 3 document: {e.Message}"] });
        }

        if (imported.Count == 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["document"] = [.. problems.DefaultIfEmpty("The document has no operations.")] });
        }

        var tenantId = context.User.TenantId();
        var stored = new List<ToolDto>();
        foreach (var tool in imported)
        {
            stored.Add(ToolDto.From(await tools.UpsertAsync(tenantId, tool)));
        }

        return TypedResults.Ok(new ImportedToolsDto(stored.ToArray(), problems.ToArray()));
    }

    /// <summary>OpenAI function names allow letters, digits, '_' and '-': dots become '__'.</summary>
    public static string OpenAiName(string name) => name.Replace(".", "__", StringComparison.Ordinal);

    [GeneratedRegex("^http\\.[a-z0-9_-]{1,64}$")]
    private static partial Regex HttpToolName();

    [GeneratedRegex("^[a-z0-9_-]{1,20}_$")]
    private static partial Regex ImportPrefix();
}

public sealed record OpenApiImportRequest(System.Text.Json.Nodes.JsonNode? Document, string? Prefix, string? BaseUrl);

public sealed record ImportedToolsDto(ToolDto[] Tools, string[] Problems);

public sealed record ToolRequest(string? Description, string? SideEffect, JsonElement? Parameters, JsonElement? ResultSchema, HttpBinding? Http, int? TimeoutMs);

/// <summary>A tool as the API shows it; HTTP header values are never shown, since they often hold credentials.</summary>
public sealed record ToolDto(string Name, string Description, string Kind, string SideEffect, JsonElement Parameters, JsonElement? ResultSchema,
    int TimeoutMs, int Version, string? Method, string? Url, string[]? Headers)
{
    public static ToolDto From(ToolDefinition tool) => new(tool.Name, tool.Description, tool.Kind, tool.SideEffect, tool.Parameters, tool.ResultSchema,
        tool.TimeoutMs, tool.Version, tool.Http?.Method, tool.Http?.Url, tool.Http?.Headers?.Keys.ToArray());
}
