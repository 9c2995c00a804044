namespace Platform.Model.Catalog;

/// <summary>
/// One upstream that can serve a public model alias. <see cref="TenantId"/> is the tenant whose alias it belongs to,
/// null for a platform-wide alias from configuration: a tenant's deployments are reached only through the outbound
/// guard, their <see cref="ApiKey"/> is the stored, encrypted form, and <see cref="CredentialId"/> the key's fingerprint.
/// </summary>
public sealed record ModelDeployment(
    string Alias,
    string Name,
    string Provider,
    string UpstreamModel,
    string? BaseUrl,
    string? ApiKey,
    decimal InputPricePerMillion,
    decimal OutputPricePerMillion,
    int ContextWindow,
    int? Rpm,
    int? Tpm,
    int Weight,
    TimeSpan? AttemptTimeout,
    string? TenantId = null,
    string? CredentialId = null)
{
    public decimal Cost(int inputTokens, int outputTokens) =>
        (inputTokens * InputPricePerMillion + outputTokens * OutputPricePerMillion) / 1_000_000m;

    public static ModelDeployment From(string alias, DeploymentDefinition definition, string? tenantId = null) => new(
        alias,
        definition.Name ?? $"{alias}/{definition.Provider}",
        definition.Provider ?? "simulator",
        definition.Model ?? alias,
        definition.BaseUrl,
        definition.ApiKey,
        DeploymentBounds.Price(definition.InputPricePerMillion),
        DeploymentBounds.Price(definition.OutputPricePerMillion),
        DeploymentBounds.ContextWindow(definition.ContextWindow),
        definition.Rpm,
        definition.Tpm,
        DeploymentBounds.Weight(definition.Weight),
        DeploymentBounds.AttemptTimeout(definition.AttemptTimeout),
        tenantId);
}

/// <summary>The deployments of an alias and how to choose among them.</summary>
public sealed record ModelRoute(string Alias, string Strategy, IReadOnlyList<ModelDeployment> Deployments);
