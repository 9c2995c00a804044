using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Catalog;
using Platform.Model.Gateway;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Model.Apis;

/// <summary>A tenant's own model aliases: which deployments serve an alias, at what price, with what limits.</summary>
public static class CatalogApi
{
    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/catalog").WithTags("Catalog").RequireScope(Scopes.Admin);

        api.MapGet("/", ListAliases);
        api.MapPut("/{alias}", PutAlias);
        api.MapDelete("/{alias}", DeleteAlias);

        return app;
    }

    /// <summary>The aliases, each deployment with the end of its cooldown when the gateway is skipping it after failures.</summary>
    public static async Task<Ok<AliasDto[]>> ListAliases(HttpContext context, ModelCatalog catalog, DeploymentHealth health, TimeProvider time)
    {
        var aliases = new List<AliasDto>();
        foreach (var (route, updatedAt) in await catalog.ListAsync(context.User.TenantId()))
        {
            aliases.Add(AliasDto.From(route, updatedAt, await health.CooldownEndsAsync(route.Deployments, time)));
        }

        return TypedResults.Ok(aliases.ToArray());
    }

    public static async Task<Results<Ok<AliasDto>, ValidationProblem>> PutAlias(
        string alias, AliasDefinition definition, HttpContext context, ModelCatalog catalog, ProviderRegistry providers)
    {
        var errors = AliasValidation.Check(alias, definition, providers);
        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        for (var i = 0; i < definition.Deployments.Count; i++)
        {
            definition.Deployments[i].Name ??= $"{alias}/{i}";
        }

        var updatedAt = await catalog.PutAsync(context.User.TenantId(), alias, definition);
        return TypedResults.Ok(AliasDto.From(new ModelRoute(alias, definition.Strategy,
            definition.Deployments.Select(d => ModelDeployment.From(alias, d)).ToList()), updatedAt, cooldownEnds: null));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteAlias(string alias, HttpContext context, ModelCatalog catalog) =>
        await catalog.DeleteAsync(context.User.TenantId(), alias) ? TypedResults.NoContent() : TypedResults.NotFound();
}

/// <summary>An alias as the API shows it: credentials are never returned.</summary>
public sealed record AliasDto(string Alias, string Strategy, DeploymentDto[] Deployments, bool Shared, DateTime? UpdatedAt)
{
    public static AliasDto From(ModelRoute route, DateTime? updatedAt, IReadOnlyList<DateTimeOffset?>? cooldownEnds) => new(
        route.Alias,
        route.Strategy,
        route.Deployments.Select((d, i) => new DeploymentDto(d.Name, d.Provider, d.UpstreamModel, d.BaseUrl, d.ApiKey is not null,
            d.InputPricePerMillion, d.OutputPricePerMillion, d.ContextWindow, d.Rpm, d.Tpm, d.Weight, cooldownEnds?[i])).ToArray(),
        updatedAt is null,
        updatedAt);
}

public sealed record DeploymentDto(
    string Name, string Provider, string Model, string? BaseUrl, bool HasApiKey, decimal InputPricePerMillion, decimal OutputPricePerMillion,
    int ContextWindow, int? Rpm, int? Tpm, int Weight, DateTimeOffset? CooldownUntil);
