using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs;
using Platform.Orchestrator.Runs.Execution;

namespace Platform.UnitTests;

/// <summary>Runs as the engine holds them, built in memory for the rules that decide from a run's state alone.</summary>
internal static class RunBuilder
{
    public static RunAgent Agent(
        AgentMode mode = AgentMode.Plan, int maxAttempts = 3, int backoffSeconds = 1, int maxReplans = 2, decimal? budgetUsd = null,
        string[]? tools = null, string[]? requireApproval = null) =>
        new("Be brief.", "simulator", null, null, tools ?? [], mode, 10, 20, maxReplans, budgetUsd, new RunAgentTimeouts(600, 60),
            new RunAgentRetries(maxAttempts, backoffSeconds), new RunAgentApprovals(requireApproval ?? [], []), [], null);

    public static StepRow Step(
        string id, string state = StepStates.Pending, int attempts = 0, string kind = StepKinds.Model, string[]? dependsOn = null,
        string? output = null, bool replannable = false, string? error = null, string? tool = null) =>
        new()
        {
            Id = id, Position = Position(id), Kind = kind, State = state, Attempts = attempts, DependsOn = dependsOn ?? [], Output = output,
            Replannable = replannable, Error = error, Tool = tool,
        };

    public static RunExecution Execution(RunAgent agent, IReadOnlyList<StepRow> steps, decimal costUsd = 0, int replans = 0, bool planned = true) =>
        new(new RunRow
        {
            Id = Guid.NewGuid(), TenantId = "acme", Agent = "writer", State = RunStates.Running, CostUsd = costUsd, Replans = replans,
            PlanId = planned ? Guid.NewGuid() : null, PlanRevision = planned ? 1 : null,
        }, steps, agent, "plt_runKey", "replica-1");

    /// <summary>Steps are ordered as their ids' digits say (s1 before s2), which keeps the tests' plans readable.</summary>
    private static int Position(string id) => int.TryParse(new string([.. id.Where(char.IsDigit)]), out var n) ? n : 0;
}
