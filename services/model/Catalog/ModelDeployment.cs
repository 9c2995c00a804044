namespace Platform.Model.Catalog;

/// <summary>One upstream that can serve a public model alias.</summary>
public sealed record ModelDeployment(
    string Alias,
    string Name,
    string Provider,
    string UpstreamModel,
    decimal InputPricePerMillion,
    decimal OutputPricePerMillion,
    int ContextWindow);
