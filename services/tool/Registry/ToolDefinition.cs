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

/// <summary>How an HTTP tool calls its endpoint: <c>{name}</c> in the URL takes that argument; the rest go in the query
/// (GET, DELETE) or as a JSON body.</summary>
public sealed record HttpBinding(string Method, string Url, Dictionary<string, string>? Headers);

public static class SideEffects
{
    public const string ReadOnly = "read_only";
    public const string Idempotent = "idempotent";
    public const string SideEffecting = "side_effecting";

    public static readonly string[] All = [ReadOnly, Idempotent, SideEffecting];
}
