using System.Text.Json;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Data;

/// <summary>Cache-aside over Redis for JSON-serialisable reads. Redis trouble degrades to a direct read, never an error.</summary>
public sealed class RedisJsonCache(IConnectionMultiplexer redis)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<T> GetOrCreateAsync<T>(string key, TimeSpan lifetime, Func<Task<T>> read)
    {
        var database = redis.GetDatabase();
        try
        {
            var cached = await database.StringGetAsync(key);
            if (cached.HasValue)
            {
                return JsonSerializer.Deserialize<T>((string)cached!, Json)!;
            }
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return await read();
        }

        var value = await read();
        try
        {
            await database.StringSetAsync(key, JsonSerializer.Serialize(value, Json), lifetime);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            // Served from the database; the next read tries the cache again.
        }

        return value;
    }

    public async Task InvalidateAsync(string key) => await redis.GetDatabase().KeyDeleteAsync(key);
}
