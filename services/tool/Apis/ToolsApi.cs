using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Data;
using Platform.Tool.Registry;

namespace Platform.Tool.Apis;

public static partial class ToolsApi
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromMinutes(5);
    private static readonly string[] SideEffects = ["read_only", "idempotent", "side_effecting"];

    public static IEndpointRouteBuilder MapToolsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/tools").WithTags("Tools").RequireScope(Scopes.Tools);

        api.MapPut("/{name}", PutTool);
        api.MapGet("/", ListTools);
        api.MapGet("/{name}", GetTool);
        api.MapDelete("/{name}", DeleteTool);

        return app;
    }

    /// <summary>Registers or updates an HTTP tool definition of the caller's tenant.</summary>
    public static async Task<Results<Ok<ToolDto>, ValidationProblem>> PutTool(
        string name, ToolRequest request, HttpContext context, ToolStore tools, RedisJsonCache cache)
    {
        var errors = new Dictionary<string, string[]>();
        if (!HttpToolName().IsMatch(name))
        {
            errors["name"] = ["An HTTP tool is named 'http.<name>': 1 to 64 lower-case letters, digits, '_' or '-' after the prefix."];
        }

        if (request.Name is not null && request.Name != name)
        {
            errors["name"] = ["The name in the body must match the path."];
        }

        if (string.IsNullOrWhiteSpace(request.Description) || request.Description.Length > 2000)
        {
            errors["description"] = ["A description is required (at most 2000 characters): the model chooses tools by it."];
        }

        if (request.SideEffect is null || !SideEffects.Contains(request.SideEffect))
        {
            errors["sideEffect"] = [$"One of: {string.Join(", ", SideEffects)}."];
        }

        if (request.Parameters is not { ValueKind: JsonValueKind.Object } parameters
            || !parameters.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "object")
        {
            errors["parameters"] = ["A JSON Schema object whose type is \"object\"."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var tenantId = context.User.TenantId();
        var tool = await tools.UpsertAsync(tenantId, request with { Name = name });
        await cache.InvalidateAsync(ListCacheKey(tenantId));
        return TypedResults.Ok(tool);
    }

    public static async Task<Ok<IReadOnlyList<ToolDto>>> ListTools(HttpContext context, ToolStore tools, RedisJsonCache cache)
    {
        var tenantId = context.User.TenantId();
        return TypedResults.Ok(await cache.GetOrCreateAsync(ListCacheKey(tenantId), CacheLifetime, () => tools.ListAsync(tenantId)));
    }

    public static async Task<Results<Ok<ToolDto>, NotFound>> GetTool(string name, HttpContext context, ToolStore tools) =>
        await tools.FindAsync(context.User.TenantId(), name) is { } tool ? TypedResults.Ok(tool) : TypedResults.NotFound();

    public static async Task<Results<NoContent, NotFound>> DeleteTool(string name, HttpContext context, ToolStore tools, RedisJsonCache cache)
    {
        var tenantId = context.User.TenantId();
        if (!await tools.DeleteAsync(tenantId, name))
        {
            return TypedResults.NotFound();
        }

        await cache.InvalidateAsync(ListCacheKey(tenantId));
        return TypedResults.NoContent();
    }

    private static string ListCacheKey(string tenantId) => $"tool:registry:{tenantId}";

    [GeneratedRegex("^http\\.[a-z0-9_-]{1,64}$")]
    private static partial Regex HttpToolName();
}
