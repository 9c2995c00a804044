using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Catalog;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Data;

namespace Platform.Model.Apis;

public static class ModelsApi
{
    private static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/models").WithTags("Models").RequireScope(Scopes.Models);

        api.MapGet("/", ListModels);

        return app;
    }

    /// <summary>OpenAI's model list shape, so any OpenAI client can discover the gateway's aliases.</summary>
    public static async Task<Ok<ModelListDto>> ListModels(HttpContext context, ModelCatalog catalog, RedisJsonCache cache)
    {
        var tenantId = context.User.TenantId();
        var models = await cache.GetOrCreateAsync($"model:catalog:{tenantId}", CacheLifetime, async () =>
            (await catalog.ListAsync(tenantId))
                .Select(m => new ModelDto(m.Alias, "model", new DateTimeOffset(m.CreatedAt, TimeSpan.Zero).ToUnixTimeSeconds(), m.Provider))
                .ToArray());
        return TypedResults.Ok(new ModelListDto("list", models));
    }
}

public sealed record ModelListDto([property: JsonPropertyName("object")] string Object, ModelDto[] Data);

public sealed record ModelDto(
    string Id,
    [property: JsonPropertyName("object")] string Object,
    long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy);
