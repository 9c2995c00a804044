using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Tool.Registry;

namespace Platform.Tool.Builtins;

/// <summary>A tool the service carries in code, available to every tenant as <c>builtin.*</c>.</summary>
public interface IBuiltinTool
{
    ToolDefinition Definition { get; }

    Task<JsonNode?> ExecuteAsync(JsonElement arguments, ToolContext context, CancellationToken cancellationToken);
}

public sealed record ToolContext(string TenantId);

/// <summary>
/// The tool ran and failed for a reason its caller should see (bad expression, refused host…). A tool that refuses
/// these arguments whatever the moment (a pure built-in's evaluation error) says so with <paramref name="retryable"/>
/// false, so callers do not repeat a call that can only fail the same way.
/// </summary>
public sealed class ToolFailedException(string message, Exception? inner = null, bool retryable = true) : Exception(message, inner)
{
    public bool Retryable { get; } = retryable;
}

internal static class Builtin
{
    public static ToolDefinition Define(string name, string description, string sideEffect, string parametersSchema, int timeoutMs = 10_000) =>
        new($"builtin.{name}", description, "builtin", sideEffect, JsonDocument.Parse(parametersSchema).RootElement.Clone(), null, timeoutMs, 1, null);
}
