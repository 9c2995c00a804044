using System.Collections.Concurrent;
using System.Text.Json;

namespace Platform.ServiceDefaults.Json;

/// <summary>
/// Schemas compiled once per text, as validating many values against the same tool's parameters would otherwise
/// compile it each time. Bounded: past <see cref="MaxEntries"/> it starts over, so tenants writing ever new schemas
/// cannot grow it without end.
/// </summary>
public sealed class SchemaCache
{
    public const int MaxEntries = 1000;

    private readonly ConcurrentDictionary<string, Lazy<Task<CheckedSchema>>> _compiled = new(StringComparer.Ordinal);

    public Task<CheckedSchema> CompileAsync(JsonElement schema)
    {
        if (_compiled.Count > MaxEntries)
        {
            _compiled.Clear();
        }

        var copy = schema.Clone();
        return _compiled.GetOrAdd(copy.GetRawText(), _ => new(() => SchemaCheck.CompileAsync(copy))).Value;
    }
}
