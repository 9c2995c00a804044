namespace Platform.Model.Catalog;

/// <summary>The gateway's configuration section <c>ModelGateway</c>.</summary>
public sealed class ModelGatewayOptions
{
    /// <summary>Platform-wide aliases; a tenant's own aliases (set through the API) override them.</summary>
    public Dictionary<string, AliasDefinition> Aliases { get; set; } = new(StringComparer.Ordinal);

    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(60);

    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromSeconds(180);

    /// <summary>Retries on one deployment before falling back to the next.</summary>
    public int MaxRetries { get; set; } = 2;

    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A Retry-After longer than this is not waited for: the next deployment is tried instead.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a failing deployment is skipped by every replica.</summary>
    public TimeSpan Cooldown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a latency sample steers a lowest-latency alias; a deployment without a younger one gets the next
    /// request, so estimates follow an upstream that got faster.
    /// </summary>
    public TimeSpan LatencySampleLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Output tokens assumed for the worst-case cost of a request that sets no max_tokens.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 4096;

    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a completed answer stays stored under its Idempotency-Key, for repeats of the request.</summary>
    public TimeSpan IdempotencyTtl { get; set; } = TimeSpan.FromHours(24);
}

public sealed class AliasDefinition
{
    public string Strategy { get; set; } = "ordered";

    public List<DeploymentDefinition> Deployments { get; set; } = [];
}

public sealed class DeploymentDefinition
{
    public string? Name { get; set; }

    /// <summary><c>simulator</c>, <c>openai</c> (any OpenAI-compatible API) or <c>anthropic</c>.</summary>
    public string? Provider { get; set; }

    public string? BaseUrl { get; set; }

    public string? ApiKey { get; set; }

    public string? Model { get; set; }

    public decimal InputPricePerMillion { get; set; }

    public decimal OutputPricePerMillion { get; set; }

    public int ContextWindow { get; set; } = 128_000;

    public int? Rpm { get; set; }

    public int? Tpm { get; set; }

    public int Weight { get; set; } = 1;

    /// <summary>Overrides the gateway's attempt timeout for this deployment (a slow local model, say).</summary>
    public TimeSpan? AttemptTimeout { get; set; }

    /// <summary>A copy holding <paramref name="apiKey"/>: what is stored differs from what was sent only in its key.</summary>
    public DeploymentDefinition WithApiKey(string? apiKey)
    {
        var copy = (DeploymentDefinition)MemberwiseClone();
        copy.ApiKey = apiKey;
        return copy;
    }
}
