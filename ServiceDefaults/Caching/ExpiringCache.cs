using System.Collections.Concurrent;

namespace Platform.ServiceDefaults.Caching;

/// <summary>
/// A small in-process cache whose entries live for a fixed time: what replicas use to keep hot-path reads off Postgres
/// and Redis while a change still reaches them within that time. Bounded: past its capacity it starts afresh.
/// </summary>
public sealed class ExpiringCache<TKey, TValue>(TimeProvider time, TimeSpan lifetime, int capacity = 10_000) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, (TValue Value, long ExpiresAt)> _entries = new();
    private readonly long _lifetimeTicks = (long)(lifetime.TotalSeconds * time.TimestampFrequency);

    public async Task<TValue> GetOrLoadAsync(TKey key, Func<TKey, Task<TValue>> load)
    {
        var now = time.GetTimestamp();
        if (_entries.TryGetValue(key, out var entry) && entry.ExpiresAt > now)
        {
            return entry.Value;
        }

        if (_entries.Count >= capacity)
        {
            _entries.Clear();
        }

        var value = await load(key);
        _entries[key] = (value, now + _lifetimeTicks);
        return value;
    }

    public void Remove(TKey key) => _entries.TryRemove(key, out _);
}
