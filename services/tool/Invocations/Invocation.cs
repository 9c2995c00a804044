using System.Text.Json;

namespace Platform.Tool.Invocations;

public static class InvocationStatus
{
    public const string PendingApproval = "pending_approval";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Denied = "denied";
    public const string Expired = "expired";
    public const string Unknown = "unknown";

    public static bool IsFinal(string status) => status is Succeeded or Failed or Denied or Expired or Unknown;
}

/// <summary>
/// An invocation as the API shows it; its arguments as stored for audit, with secrets masked. A failed one says why
/// (<see cref="InvocationErrors"/>) and whether the same call may succeed when made again.
/// </summary>
public sealed record InvocationDto(
    Guid Id, string Tool, string Status, JsonElement Arguments, JsonElement? Result, string? Error, string? ErrorCode, bool? Retryable,
    string IdempotencyKey, string? RunId, string? StepId,
    Guid? ApprovalId, int? DurationMs, DateTime CreatedAt, DateTime? FinishedAt, bool Replayed);

public sealed record InvocationRequest(JsonElement? Arguments, string? IdempotencyKey, string? RunId, string? StepId);
