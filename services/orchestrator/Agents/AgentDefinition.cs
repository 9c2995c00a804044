using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Orchestrator.Agents;

/// <summary>
/// What an agent is, as stored in one version: every value checked and every default applied when the version was
/// written, so a reader never needs to check it again or know the defaults of the day it was written.
/// </summary>
public sealed record AgentDefinition(
    string Instructions,
    string Model,
    string? FallbackModel,
    string? AcceptanceModel,
    IReadOnlyList<string> Tools,
    AgentMode Mode,
    int MaxSteps,
    int MaxToolCalls,
    int MaxReplans,
    decimal? BudgetUsd,
    AgentTimeouts Timeouts,
    AgentRetries Retries,
    AgentApprovals Approvals,
    IReadOnlyDictionary<string, AgentCompensation> Compensations,
    JsonElement? OutputSchema,
    string? WebhookUrl,
    JsonElement Metadata);

[JsonConverter(typeof(JsonStringEnumConverter<AgentMode>))]
public enum AgentMode
{
    /// <summary>Plan the whole goal first, then execute the plan's steps.</summary>
    [JsonStringEnumMemberName("plan")]
    Plan,

    /// <summary>Decide one step at a time from what the last one returned.</summary>
    [JsonStringEnumMemberName("react")]
    React,
}

public sealed record AgentTimeouts(int RunSeconds, int StepSeconds);

public sealed record AgentRetries(int MaxAttempts, int BackoffSeconds);

/// <summary>Per-agent overrides of the tools' own approval policies: tools that always need a human, and tools that never do.</summary>
public sealed record AgentApprovals(IReadOnlyList<string> Require, IReadOnlyList<string> Skip);

/// <summary>
/// The call that undoes a tool's effect (a saga's compensation): when a run fails after a step called the tool, this
/// call runs, newest step first. Its arguments may use <c>{{output.&lt;field&gt;}}</c> and <c>{{arguments.&lt;field&gt;}}</c>
/// of the step it undoes.
/// </summary>
public sealed record AgentCompensation(string Tool, JsonElement Arguments);
