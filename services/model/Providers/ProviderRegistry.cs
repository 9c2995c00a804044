namespace Platform.Model.Providers;

/// <summary>
/// The providers by name: chat ones, some of which embed too, and those that only embed (the local model).
/// </summary>
public sealed class ProviderRegistry(IEnumerable<IChatProvider> chat, IEnumerable<IEmbeddingProvider> embeddingOnly)
{
    private readonly Dictionary<string, IChatProvider> _chat = chat.ToDictionary(p => p.Name, StringComparer.Ordinal);

    private readonly Dictionary<string, IEmbeddingProvider> _embeddings =
        chat.OfType<IEmbeddingProvider>().Concat(embeddingOnly).ToDictionary(p => p.Name, StringComparer.Ordinal);

    public IEnumerable<string> Names => _chat.Keys.Union(_embeddings.Keys, StringComparer.Ordinal);

    public const string ChatCapability = "chat";
    public const string EmbeddingsCapability = "embeddings";

    public bool Has(string name) => _chat.ContainsKey(name) || _embeddings.ContainsKey(name);

    public IChatProvider? Chat(string name) => _chat.GetValueOrDefault(name);

    public IEmbeddingProvider? Embeddings(string name) => _embeddings.GetValueOrDefault(name);

    /// <summary>What a deployment on <paramref name="name"/> can serve, as <c>/v1/models</c> lists it.</summary>
    public IEnumerable<string> Capabilities(string name)
    {
        if (_chat.ContainsKey(name))
        {
            yield return ChatCapability;
        }

        if (_embeddings.ContainsKey(name))
        {
            yield return EmbeddingsCapability;
        }
    }
}
