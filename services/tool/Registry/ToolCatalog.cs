using Platform.Tool.Builtins;

namespace Platform.Tool.Registry;

/// <summary>The tools a tenant sees: the built-ins, then its own registered tools.</summary>
public sealed class ToolCatalog(IEnumerable<IBuiltinTool> builtins, ToolStore store)
{
    private readonly Dictionary<string, IBuiltinTool> _builtins = builtins.ToDictionary(b => b.Definition.Name, StringComparer.Ordinal);

    public IBuiltinTool? Builtin(string name) => _builtins.GetValueOrDefault(name);

    public async Task<ToolDefinition?> FindAsync(string tenantId, string name) =>
        _builtins.TryGetValue(name, out var builtin) ? builtin.Definition : await store.FindAsync(tenantId, name);

    public async Task<IReadOnlyList<ToolDefinition>> ListAsync(string tenantId) =>
        [.. _builtins.Values.Select(b => b.Definition).OrderBy(d => d.Name, StringComparer.Ordinal), .. await store.ListAsync(tenantId)];
}
