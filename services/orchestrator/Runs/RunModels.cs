using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Orchestrator.Agents;

namespace Platform.Orchestrator.Runs;

public static class RunStates
{
    public const string Queued = "queued";
    public const string Planning = "planning";
    public const string Running = "running";
    public const string WaitingApproval = "waiting_approval";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string TimedOut = "timed_out";

    public static readonly IReadOnlyList<string> All = [Queued, Planning, Running, WaitingApproval, Succeeded, Failed, Cancelled, TimedOut];

    public static bool IsTerminal(string state) => state is Succeeded or Failed or Cancelled or TimedOut;
}

public static class StepStates
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string WaitingApproval = "waiting_approval";

    /// <summary>A person approved the step here (an approval gate before a tool call); it runs next.</summary>
    public const string Approved = "approved";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";

    /// <summary>Replaced by a later revision of the plan before it finished; it never runs again.</summary>
    public const string Superseded = "superseded";
}

public static class StepKinds
{
    public const string Model = "model";
    public const string Tool = "tool";
    public const string Approval = "approval";
}

/// <summary>
/// What the engine reads of the agent version a run was accepted with (its stored snapshot): the definition's own
/// defaults were applied when the version was written.
/// </summary>
public sealed record RunAgent(
    string Instructions,
    string Model,
    string? FallbackModel,
    string? AcceptanceModel,
    string[] Tools,
    AgentMode Mode,
    int MaxSteps,
    int MaxToolCalls,
    int MaxReplans,
    decimal? BudgetUsd,
    RunAgentTimeouts Timeouts,
    RunAgentRetries Retries,
    RunAgentApprovals Approvals,
    Dictionary<string, RunCompensation> Compensations,
    JsonElement? OutputSchema)
{
    public static RunAgent Read(string json) => JsonSerializer.Deserialize<RunAgent>(json, RunJson.Options)
        ?? throw new InvalidOperationException("A run's agent snapshot is empty.");
}

public sealed record RunAgentTimeouts(int RunSeconds, int StepSeconds);

public sealed record RunAgentRetries(int MaxAttempts, int BackoffSeconds);

public sealed record RunAgentApprovals(string[] Require, string[] Skip);

public sealed record RunCompensation(string Tool, JsonObject Arguments);

/// <summary>A run row as the engine and the API read it.</summary>
public sealed class RunRow
{
    public Guid Id { get; init; }
    public string TenantId { get; init; } = "";
    public string Agent { get; init; } = "";
    public int AgentVersion { get; init; }
    public string AgentDefinition { get; init; } = "{}";
    public string Goal { get; init; } = "";
    public string? Input { get; init; }
    public string? Metadata { get; init; }
    public string? WebhookUrl { get; init; }
    public string? IdempotencyKey { get; init; }
    public string CreatedBy { get; init; } = "";
    public Guid RunKeyId { get; init; }
    public string RunKey { get; init; } = "";
    public string State { get; set; } = RunStates.Queued;
    public string? Reason { get; set; }
    public string? Output { get; set; }
    public Guid? PlanId { get; set; }
    public int? PlanRevision { get; set; }
    public int Replans { get; set; }
    public decimal CostUsd { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public int EventSeq { get; set; }
    public bool CancelRequested { get; init; }
    public DateTime Deadline { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime UpdatedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
}

public sealed class StepRow
{
    public Guid RunId { get; init; }
    public string Id { get; init; } = "";
    public int Position { get; init; }
    public string Kind { get; init; } = StepKinds.Model;
    public string Title { get; init; } = "";
    public string Instruction { get; init; } = "";
    public string? Tool { get; init; }
    public string? Arguments { get; init; }
    public string[] DependsOn { get; init; } = [];
    public string? Acceptance { get; init; }

    /// <summary>The call (<see cref="RunCompensation"/> as JSON, its arguments filled in when it runs) that undoes this step.</summary>
    public string? Compensation { get; init; }

    public string State { get; set; } = StepStates.Pending;
    public int Attempts { get; set; }
    public string AttemptLog { get; set; } = "[]";
    public string? Output { get; set; }
    public string? Error { get; set; }
    public bool Replannable { get; set; }
    public Guid? InvocationId { get; set; }
    public string? CompensationState { get; set; }
    public string? CompensationError { get; set; }
    public decimal CostUsd { get; set; }
    public int PromptTokens { get; set; }
    public int CompletionTokens { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
}

public sealed record RunEvent(long Seq, string Type, string? StepId, JsonElement Data, DateTime At);

public static class RunJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    public static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);
}
