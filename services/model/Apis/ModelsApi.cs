using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Agents;
using Platform.Model.Catalog;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Model.Apis;

public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models").WithTags("Models").RequireScope(Scopes.Models);

        api.MapGet("/", ListModels);

        return app;
    }

    /// <summary>
    /// OpenAI's model list shape, so any OpenAI client can discover the gateway's aliases; beside it, what each alias
    /// serves and whether any of its deployments is the simulator, whose answers are not a language model's.
    /// </summary>
    public static async Task<Ok<ModelListDto>> ListModels(HttpContext context, ModelCatalog catalog, ProviderRegistry providers, AgentRuns agents)
    {
        var tenantId = context.User.TenantId();
        var aliases = (await catalog.ListAsync(tenantId))
            .Select(m => new ModelDto(m.Route.Alias, "model", Created(m.UpdatedAt), OwnedBy(m.Route),
                [.. m.Route.Deployments.SelectMany(d => providers.Capabilities(d.Provider)).Distinct().Order(StringComparer.Ordinal)],
                m.Route.Deployments.Any(d => d.Provider == SimulatorProvider.ProviderName)));
        // The tenant's agents, when the key may read them (scope agents): each answers as a model through a run.
        var agentModels = (await agents.ListAgentsAsync(context.RequestAborted))
            .Select(a => new ModelDto($"{AgentCompletions.Prefix}{a.Name}", "model", Created(a.WrittenAt), "platform-agent", [ProviderRegistry.ChatCapability], false));
        return TypedResults.Ok(new ModelListDto("list", [.. aliases, .. agentModels]));
    }

    /// <summary>Platform-wide aliases have no creation time of their own; the gateway's start stands in.</summary>
    private static long Created(DateTime? updatedAt) =>
        updatedAt is { } at ? new DateTimeOffset(at, TimeSpan.Zero).ToUnixTimeSeconds() : StartedAt;

    private static readonly long StartedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string OwnedBy(ModelRoute route) => string.Join("+", route.Deployments.Select(d => d.Provider).Distinct());
}

public sealed record ModelListDto([property: JsonPropertyName("object")] string Object, ModelDto[] Data);

public sealed record ModelDto(
    string Id,
    [property: JsonPropertyName("object")] string Object,
    long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    string[] Capabilities,
    bool Simulated);
