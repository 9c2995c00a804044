using System.Text.Encodings.Web;
using System.Text.Json;

namespace Platform.Dashboard.Clients;

/// <summary>The orchestrator's wire types, as far as the dashboard reads them.</summary>
public sealed record RunSummary(Guid Id, string Agent, int AgentVersion, string State, string? Reason, string Goal, Usage Usage, DateTime CreatedAt, DateTime? FinishedAt);

public sealed record Run(
    Guid Id, string Agent, int AgentVersion, string State, string? Reason, string Goal, JsonElement? Output, Usage Usage, long LastEventSeq,
    DateTime CreatedAt, DateTime? FinishedAt, IReadOnlyList<Step> Steps)
{
    public bool IsFinal => State is "succeeded" or "failed" or "cancelled" or "timed_out";
}

public sealed record Step(
    string Id, string Kind, string Title, string? Tool, IReadOnlyList<string> DependsOn, string State, int Attempts, string? Error, Guid? InvocationId,
    Usage Usage, DateTime? StartedAt, DateTime? FinishedAt);

public sealed record Usage(int PromptTokens, int CompletionTokens, decimal CostUsd);

public sealed record Agent(
    string Name, int Version, DateTime CreatedAt, string CreatedBy, string Instructions, string Model, IReadOnlyList<string> Tools, string Mode, int MaxSteps,
    decimal? BudgetUsd);

public sealed record AgentPage(IReadOnlyList<Agent> Items, string? Next);

public sealed record AgentVersionPage(IReadOnlyList<Agent> Items, int? Next);

public sealed record RunQueue(long Depth, double OldestSeconds);

public sealed record Tenant(string Id, string Name, string Status, DateTime CreatedAt, DateTime? DeactivatedAt, DateTime? DeletedAt);

public sealed record ApiKeyInfo(
    Guid Id, string TenantId, string Name, string Prefix, IReadOnlyList<string> Scopes, bool Bootstrap, DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt);

/// <summary>The only answer that holds a key itself: the page shows it once.</summary>
public sealed record IssuedApiKey(string Key, ApiKeyInfo ApiKey);

/// <summary>One event of a run's stream: a logged event (with its sequence number) or a model step's token delta (without).</summary>
public sealed record RunEvent(long? Seq, string Type, string? StepId, DateTime At, string Detail)
{
    // For display only (the page encodes it): apostrophes and quotes as they are, not \u0027.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static RunEvent Parse(string type, string data)
    {
        using var document = JsonDocument.Parse(data);
        var root = document.RootElement;
        long? seq = root.TryGetProperty("seq", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt64() : null;
        var stepId = (root.TryGetProperty("stepId", out var step) || root.TryGetProperty("step", out step)) && step.ValueKind == JsonValueKind.String
            ? step.GetString()
            : null;
        if (type == "delta")
        {
            return new RunEvent(null, type, stepId, DateTime.UtcNow, root.TryGetProperty("delta", out var text) ? text.GetString() ?? "" : "");
        }

        var at = root.TryGetProperty("at", out var a) && a.ValueKind == JsonValueKind.String && a.TryGetDateTime(out var time) ? time : DateTime.UtcNow;
        var detail = !root.TryGetProperty("data", out var d) || d.ValueKind is JsonValueKind.Null ? ""
            : d.ValueKind is JsonValueKind.String ? d.GetString()! : JsonSerializer.Serialize(d, Readable);
        return new RunEvent(seq, type, stepId, at, detail.Length > 200 ? detail[..200] + "…" : detail);
    }

    public bool EndsRun => Type is "run.succeeded" or "run.failed" or "run.cancelled" or "run.timed_out";
}
