using System.Text.Json.Nodes;

namespace Platform.Tests.Sweep;

/// <summary>One operation (method and path template) of a service, as its OpenAPI document declares it.</summary>
public sealed record SweepOperation(
    string Service,
    string Method,
    string Path,
    IReadOnlyList<SweepParameter> Parameters,
    JsonNode? BodySchema,
    bool BodyRequired,
    JsonObject Document,
    bool IsPage = false,
    IReadOnlyList<string>? FormFields = null)
{
    // OpenAI's retrieve-model endpoint is /v1/models/{model}; the gateway names the parameter after its aliases.
    private static readonly HashSet<string> OpenAiPaths = ["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/v1/models/{alias}"];

    public string Name => $"{Method} {Path}";

    public bool IsWrite => Method is "POST" or "PUT" or "PATCH" or "DELETE";

    /// <summary>OpenAI's own endpoints answer errors in OpenAI's shape; every other endpoint in problem+json.</summary>
    public bool SpeaksOpenAi => OpenAiPaths.Contains(Path);

    /// <summary>The dashboard's pages are public (they send a visitor to sign in); every API endpoint requires a key.</summary>
    public bool RequiresKey => !IsPage;
}

public sealed record SweepParameter(string Name, string In, JsonNode? Schema);
