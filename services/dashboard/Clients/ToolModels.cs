using System.Text.Json;

namespace Platform.Dashboard.Clients;

/// <summary>The tool service's wire types, as far as the dashboard reads them.</summary>
public sealed record ToolApproval(Guid Id, Guid InvocationId, string Tool, string Status, string? Reason, DateTime ExpiresAt, DateTime CreatedAt);

public sealed record ToolInfo(string Name, string Description, string Kind, string SideEffect, int TimeoutMs, int Version, string? Method, string? Url);

public sealed record McpServer(string Name, string Transport, string? Command, IReadOnlyList<string> Args, string? Url, McpServerState State, IReadOnlyList<string>? Tools);

public sealed record McpServerState(string Status, int? ToolCount, string? LastError);

/// <summary>A tool call; its arguments as the tool service keeps them for audit, secrets masked.</summary>
public sealed record Invocation(
    Guid Id, string Tool, string Status, JsonElement Arguments, JsonElement? Result, string? Error, string IdempotencyKey, string? RunId, string? StepId, Guid? ApprovalId,
    int? DurationMs, DateTime CreatedAt, DateTime? FinishedAt);
