using Platform.Model.Catalog;
using Platform.Model.Gateway;

namespace Platform.Model.Providers;

/// <summary>A provider that also turns text into vectors; providers without embeddings do not implement it.</summary>
public interface IEmbeddingProvider
{
    string Name { get; }

    Task<EmbeddingResult> EmbedAsync(EmbeddingRequest request, ModelDeployment deployment, CancellationToken cancellationToken);
}

public sealed record EmbeddingRequest(string Model, IReadOnlyList<string> Inputs, int? Dimensions, System.Text.Json.Nodes.JsonObject Body);

public sealed record EmbeddingResult(IReadOnlyList<float[]> Vectors, string Model, Usage Usage);
