namespace Platform.Model.Providers;

public sealed class ProviderRegistry(IEnumerable<IChatProvider> providers)
{
    public IEmbeddingProvider? Embeddings(string name) => _providers.GetValueOrDefault(name) as IEmbeddingProvider;

    private readonly Dictionary<string, IChatProvider> _providers = providers.ToDictionary(p => p.Name, StringComparer.Ordinal);

    public IEnumerable<string> Names => _providers.Keys;

    public bool Has(string name) => _providers.ContainsKey(name);

    public IChatProvider For(string name) =>
        _providers.TryGetValue(name, out var provider) ? provider : throw new InvalidOperationException($"No provider named '{name}' is registered.");
}
