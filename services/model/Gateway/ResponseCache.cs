using System.Text.Json;
using Microsoft.Extensions.Options;
using Platform.Model.Catalog;
using Platform.ServiceDefaults.Json;
using StackExchange.Redis;

namespace Platform.Model.Gateway;

/// <summary>
/// Exact-match response cache in Redis, per tenant. A request is cached only when it is deterministic
/// (<c>temperature: 0</c>) or asks for it (<c>x-platform-cache: true</c>); <c>x-platform-cache: false</c> opts out.
/// The key is the canonical request (keys sorted; streaming switches and the end-user id left out), so a streamed and
/// a plain request share an entry.
/// </summary>
public sealed class ResponseCache(IConnectionMultiplexer redis, IOptionsMonitor<ModelGatewayOptions> options, ILogger<ResponseCache> logger)
{
    public const string Header = "x-platform-cache";
    private static readonly HashSet<string> Ignored = ["stream", "stream_options", "user"];
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static string? KeyFor(string tenantId, ChatRequest request, IHeaderDictionary headers)
    {
        var asked = headers[Header].ToString();
        if (asked.Equals("false", StringComparison.OrdinalIgnoreCase) || (request.Temperature != 0 && !asked.Equals("true", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        return $"model:cache:{tenantId}:{CanonicalJson.Hash(request.Body, Ignored)}";
    }

    public async Task<CachedCompletion?> GetAsync(string key)
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(key);
            return value.HasValue ? JsonSerializer.Deserialize<CachedCompletion>((string)value!, Json) : null;
        }
        catch (Exception e) when (e is RedisException or TimeoutException or JsonException)
        {
            logger.LogWarning("Response cache read failed: {Message}", e.Message);
            return null;
        }
    }

    public async Task SetAsync(string key, CachedCompletion entry)
    {
        try
        {
            await redis.GetDatabase().StringSetAsync(key, JsonSerializer.Serialize(entry, Json), options.CurrentValue.CacheTtl);
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            logger.LogWarning("Response cache write failed: {Message}", e.Message);
        }
    }
}

/// <summary>A cached answer and the deployment that produced it.</summary>
public sealed record CachedCompletion(ChatCompletion Completion, string Deployment, string Provider);
