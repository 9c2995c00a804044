using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.ServiceDefaults.Authentication;
using Platform.Tool.Net;
using Platform.Tool.Registry;
using Platform.ServiceDefaults.Http;

namespace Platform.Tool.Apis;

public static partial class ToolsApi
{
    /// <summary>OpenAPI documents of large APIs run to megabytes, beyond the default body limit.</summary>
    public const long MaxOpenApiDocumentBytes = 16 * 1024 * 1024;

    public static IEndpointRouteBuilder MapToolsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tools").WithTags("Tools").RequireScope(Scopes.Tools);

        api.MapGet("/", ListTools);
        api.MapGet("/{name}", GetTool);
        api.MapPut("/{name}", PutTool);
        api.MapDelete("/{name}", DeleteTool);
        api.MapPut("/{name}/policy", PutPolicy).RequireScope(Scopes.Admin);
        api.MapPost("/import/openapi", ImportOpenApi).WithMetadata(new RequestSizeLimitAttribute(MaxOpenApiDocumentBytes));

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

    /// <summary>
    /// Registers or updates an HTTP tool of the caller's tenant. A tool whose headers use the tenant's secrets sends them
    /// to the URL it names, so writing one takes an admin key: a <c>tools</c> key could otherwise send any secret anywhere.
    /// </summary>
    public static async Task<Results<Ok<ToolDto>, ValidationProblem, ProblemHttpResult>> PutTool(string name, ToolRequest request, HttpContext context, ToolStore tools)
    {
        var errors = await ToolValidation.ProblemsAsync(name, request);
        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        if (SecretStore.ReferencesSecrets(request.Http?.Headers) && !context.User.HasScope(Scopes.Admin))
        {
            return TypedResults.Problem("Headers that use the tenant's secrets ('{{secret:…}}') need an admin key: the tool sends them to its URL.",
                statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        var tool = await tools.UpsertAsync(context.User.TenantId(), new ToolDefinition(name, request.Description!, "http", request.SideEffect!,
            request.Parameters!.Value, request.ResultSchema is { ValueKind: not JsonValueKind.Null } result ? result : null, request.TimeoutMs ?? 30_000, 1, request.Http));
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

        if (policy.Problems() is { Count: > 0 } errors)
        {
            return ValidationProblems.For(errors);
        }

        await tools.PutPolicyAsync(context.User.TenantId(), name, policy);
        return TypedResults.NoContent();
    }

    /// <summary>Imports an OpenAPI 3 document as one HTTP tool per operation, named <c>http.{prefix}{operationId}</c>.</summary>
    public static async Task<Results<Ok<ImportedToolsDto>, ValidationProblem>> ImportOpenApi(OpenApiImportRequest request, HttpContext context, ToolStore tools)
    {
        if (request.Document is not System.Text.Json.Nodes.JsonObject document || request.Prefix is { } prefix && !ImportPrefix().IsMatch(prefix))
        {
            return ValidationProblems.For("document", "An OpenAPI 3 document as a JSON object, and an optional prefix of lower-case letters, digits, '_' or '-' ending in '_'.");
        }

        IReadOnlyList<ToolDefinition> imported;
        IReadOnlyList<string> problems;
        try
        {
            (imported, problems) = OpenApiImporter.Import(document, request.Prefix ?? "", request.BaseUrl);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or JsonException)
        {
            return ValidationProblems.For("document", $"Not a readable OpenAPI 3 document: {e.Message}");
        }

        if (imported.Count == 0)
        {
            return ValidationProblems.For(new Dictionary<string, string[]> { ["document"] = [.. problems.DefaultIfEmpty("The document has no operations.")] });
        }

        var valid = new List<ToolDefinition>();
        var skipped = problems.ToList();
        foreach (var tool in imported)
        {
            var errors = await ToolValidation.ProblemsAsync(tool.Name, ToolRequest.From(tool));
            if (errors.Count == 0)
            {
                valid.Add(tool);
            }
            else
            {
                skipped.Add($"{tool.Name}: {string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))} Skipped.");
            }
        }

        if (valid.Count == 0)
        {
            return ValidationProblems.For(new Dictionary<string, string[]> { ["document"] = [.. skipped] });
        }

        var tenantId = context.User.TenantId();
        var stored = new List<ToolDto>();
        foreach (var tool in valid)
        {
            stored.Add(ToolDto.From(await tools.UpsertAsync(tenantId, tool)));
        }

        return TypedResults.Ok(new ImportedToolsDto(stored.ToArray(), skipped.ToArray()));
    }

    /// <summary>OpenAI function names allow letters, digits, '_' and '-': dots become '__'.</summary>
    public static string OpenAiName(string name) => name.Replace(".", "__", StringComparison.Ordinal);

    [GeneratedRegex("^[a-z0-9_-]{1,20}_$")]
    private static partial Regex ImportPrefix();
}

public sealed record OpenApiImportRequest(System.Text.Json.Nodes.JsonNode? Document, string? Prefix, string? BaseUrl);

public sealed record ImportedToolsDto(ToolDto[] Tools, string[] Problems);

public sealed record ToolRequest(string? Description, string? SideEffect, JsonElement? Parameters, JsonElement? ResultSchema, HttpBinding? Http, int? TimeoutMs)
{
    public static ToolRequest From(ToolDefinition tool) => new(tool.Description, tool.SideEffect, tool.Parameters, tool.ResultSchema, tool.Http, tool.TimeoutMs);
}

/// <summary>A tool as the API shows it; HTTP header values are never shown, since they often hold credentials.</summary>
public sealed record ToolDto(string Name, string Description, string Kind, string SideEffect, JsonElement Parameters, JsonElement? ResultSchema,
    int TimeoutMs, int Version, string? Method, string? Url, string[]? Headers)
{
    public static ToolDto From(ToolDefinition tool) => new(tool.Name, tool.Description, tool.Kind, tool.SideEffect, tool.Parameters, tool.ResultSchema,
        tool.TimeoutMs, tool.Version, tool.Http?.Method, tool.Http?.Url, tool.Http?.Headers?.Keys.ToArray());
}
