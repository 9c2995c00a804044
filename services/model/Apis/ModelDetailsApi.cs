using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Catalog;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Model.Apis;

/// <summary>
/// One alias, in OpenAI's "retrieve model" shape (<c>GET /v1/models/{model}</c>) plus what the catalog knows of its
/// cost: the highest prices and the smallest context window among its deployments, so an estimate from them is an
/// upper bound whichever deployment serves. Keys with the <c>plans</c> scope may read it (the planning service costs
/// plans with it); OpenAI clients ignore the extra fields. Provider keys and base URLs are never shown.
/// </summary>
public static class ModelDetailsApi
{
    private static readonly long StartedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    public static IEndpointRouteBuilder MapModelDetailsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/models/{**alias}", GetModel)
            .WithTags("Models")
            .RequireAuthorization(policy => policy.RequireAuthenticatedUser()
                .RequireAssertion(context => context.User.HasScope(Scopes.Models) || context.User.HasScope(Scopes.Plans)));
        return app;
    }

    public static async Task<Results<Ok<ModelDetailsDto>, NotFound>> GetModel(string alias, HttpContext context, ModelCatalog catalog)
    {
        var (route, updatedAt) = (await catalog.ListAsync(context.User.TenantId())).FirstOrDefault(m => m.Route.Alias == alias);
        if (route is null || route.Deployments.Count == 0)
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(new ModelDetailsDto(
            route.Alias,
            "model",
            updatedAt is { } at ? new DateTimeOffset(at, TimeSpan.Zero).ToUnixTimeSeconds() : StartedAt,
            string.Join("+", route.Deployments.Select(d => d.Provider).Distinct()),
            new ModelPricing(route.Deployments.Max(d => d.InputPricePerMillion), route.Deployments.Max(d => d.OutputPricePerMillion), "USD"),
            route.Deployments.Min(d => d.ContextWindow)));
    }
}

public sealed record ModelDetailsDto(
    string Id,
    [property: JsonPropertyName("object")] string Object,
    long Created,
    [property: JsonPropertyName("owned_by")] string OwnedBy,
    ModelPricing Pricing,
    [property: JsonPropertyName("context_window")] int ContextWindow);

public sealed record ModelPricing(
    [property: JsonPropertyName("input_per_million")] decimal InputPerMillion,
    [property: JsonPropertyName("output_per_million")] decimal OutputPerMillion,
    string Currency);
