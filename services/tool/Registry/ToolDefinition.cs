using System.Text.Json;

namespace Platform.Tool.Registry;

/// <summary>A tool as the executor sees it, built-in or registered.</summary>
public sealed record ToolDefinition(
    string Name,
    string Description,
    string Kind,
    string SideEffect,
    JsonElement Parameters,
    JsonElement? ResultSchema,
    int TimeoutMs,
    int Version,
    HttpBinding? Http);

/// <summary>
/// How an HTTP tool calls its endpoint: <c>{name}</c> in the URL takes that argument; arguments named in
/// <paramref name="Query"/> go in the query string; the rest go in the query (GET, HEAD, DELETE) or as a JSON body.
/// </summary>
public sealed record HttpBinding(string Method, string Url, Dictionary<string, string>? Headers, string[]? Query = null);

public static class SideEffects
{
    public const string ReadOnly = "read_only";
    public const string Idempotent = "idempotent";
    public const string SideEffecting = "side_effecting";

    public static readonly string[] All = [ReadOnly, Idempotent, SideEffecting];
}
