namespace Platform.Planning.Plans;

/// <summary>Problems by field (<c>steps[2].dependsOn</c>), bounded so that a hostile plan cannot make a huge answer.</summary>
public sealed class ErrorList
{
    private const int MaxMessages = 100;
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);
    private int _count;

    public int Count => _errors.Count;

    public void Add(string field, string message)
    {
        if (_count++ >= MaxMessages)
        {
            return;
        }

        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
    }

    public Dictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    /// <summary>A value for a message: short, and without characters that would garble it.</summary>
    public static string Quote(string? value)
    {
        var text = value is null ? "" : value.Length > 64 ? value[..64] + "…" : value;
        return new string(text.Select(c => char.IsControl(c) || char.IsSurrogate(c) ? '?' : c).ToArray());
    }
}
