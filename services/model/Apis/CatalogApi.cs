using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Catalog;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Model.Apis;

/// <summary>A tenant's own model aliases: which deployments serve an alias, at what price, with what limits.</summary>
public static partial class CatalogApi
{
    private static readonly string[] Strategies = ["ordered", "weighted", "lowest-latency"];

    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/catalog").WithTags("Catalog").RequireScope(Scopes.Admin);

        api.MapGet("/", ListAliases);
        api.MapPut("/{alias}", PutAlias);
        api.MapDelete("/{alias}", DeleteAlias);

        return app;
    }

    public static async Task<Ok<AliasDto[]>> ListAliases(HttpContext context, ModelCatalog catalog) =>
        TypedResults.Ok((await catalog.ListAsync(context.User.TenantId())).Select(a => AliasDto.From(a.Route, a.UpdatedAt)).ToArray());

    public static async Task<Results<Ok<AliasDto>, ValidationProblem>> PutAlias(
        string alias, AliasDefinition definition, HttpContext context, ModelCatalog catalog, ProviderRegistry providers)
    {
        var errors = new Dictionary<string, string[]>();
        if (!AliasPattern().IsMatch(alias))
        {
            errors["alias"] = ["An alias is 1 to 100 letters, digits, '.', '-', '_', ':' or '/'."];
        }

        if (!Strategies.Contains(definition.Strategy))
        {
            errors["strategy"] = [$"One of: {string.Join(", ", Strategies)}."];
        }

        if (definition.Deployments is not { Count: > 0 and <= 20 })
        {
            errors["deployments"] = ["An alias has 1 to 20 deployments."];
        }

        for (var i = 0; i < (definition.Deployments?.Count ?? 0); i++)
        {
            var deployment = definition.Deployments![i];
            if (deployment is null)
            {
                errors[$"deployments[{i}]"] = ["A deployment is an object."];
                continue;
            }

            if (deployment.Provider is null || !providers.Has(deployment.Provider))
            {
                errors[$"deployments[{i}].provider"] = [$"One of: {string.Join(", ", providers.Names)}."];
            }
            else if (deployment.Provider != SimulatorProvider.ProviderName && !IsHttpUrl(deployment.BaseUrl))
            {
                errors[$"deployments[{i}].baseUrl"] = ["An absolute http(s) URL is required for this provider."];
            }

            if (string.IsNullOrWhiteSpace(deployment.Model))
            {
                errors[$"deployments[{i}].model"] = ["The upstream model is required."];
            }

            if (deployment.InputPricePerMillion < 0 || deployment.OutputPricePerMillion < 0 || deployment.ContextWindow <= 0
                || deployment.Weight <= 0 || deployment.Rpm <= 0 || deployment.Tpm <= 0)
            {
                errors[$"deployments[{i}]"] = ["Prices are zero or more; context window, weight, rpm and tpm are positive."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        for (var i = 0; i < definition.Deployments!.Count; i++)
        {
            definition.Deployments[i].Name ??= $"{alias}/{i}";
        }

        var updatedAt = await catalog.PutAsync(context.User.TenantId(), alias, definition);
        return TypedResults.Ok(AliasDto.From(new ModelRoute(alias, definition.Strategy,
            definition.Deployments.Select(d => ModelDeployment.From(alias, d)).ToList()), updatedAt));
    }

    public static async Task<Results<NoContent, NotFound>> DeleteAlias(string alias, HttpContext context, ModelCatalog catalog) =>
        await catalog.DeleteAsync(context.User.TenantId(), alias) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static bool IsHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var url) && url.Scheme is "http" or "https";

    [GeneratedRegex("^[A-Za-z0-9._:/-]{1,100}$")]
    private static partial Regex AliasPattern();
}

/// <summary>An alias as the API shows it: credentials are never returned.</summary>
public sealed record AliasDto(string Alias, string Strategy, DeploymentDto[] Deployments, bool Shared, DateTime? UpdatedAt)
{
    public static AliasDto From(ModelRoute route, DateTime? updatedAt) => new(
        route.Alias,
        route.Strategy,
        route.Deployments.Select(d => new DeploymentDto(d.Name, d.Provider, d.UpstreamModel, d.BaseUrl, d.ApiKey is not null,
            d.InputPricePerMillion, d.OutputPricePerMillion, d.ContextWindow, d.Rpm, d.Tpm, d.Weight)).ToArray(),
        updatedAt is null,
        updatedAt);
}

public sealed record DeploymentDto(
    string Name, string Provider, string Model, string? BaseUrl, bool HasApiKey, decimal InputPricePerMillion, decimal OutputPricePerMillion,
    int ContextWindow, int? Rpm, int? Tpm, int Weight);
