using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>What the run's state decides once no attempt is in flight.</summary>
public abstract record RunDecision
{
    /// <summary>Steps remain to run.</summary>
    public sealed record Continue : RunDecision;

    /// <summary>The run fails (after its compensations) for <paramref name="Reason"/>.</summary>
    public sealed record Fail(string Reason) : RunDecision;

    /// <summary>The planner is asked for a revision around <paramref name="Failed"/>.</summary>
    public sealed record Replan(StepRow Failed) : RunDecision;

    /// <summary>Every step succeeded: the run succeeds with <paramref name="Output"/> if it matches the agent's output schema.</summary>
    public sealed record Succeed(JsonNode? Output) : RunDecision;
}

/// <summary>
/// Whether a run is done: it fails when the budget is spent or a step failed for good, re-plans around a step that
/// failed in a way the planner may work around (a bounded number of times), and succeeds when every step did.
/// </summary>
public static class RunProgress
{
    public static RunDecision Decide(RunExecution x)
    {
        if (x.OverBudget)
        {
            return new RunDecision.Fail(x.BudgetSpent);
        }

        if (x.Steps.Values.FirstOrDefault(s => s.State == StepStates.Failed) is { } failed)
        {
            return !failed.Replannable || x.Run.Replans >= x.Agent.MaxReplans || x.Run.PlanId is null
                ? new RunDecision.Fail(StepFailed(failed))
                : new RunDecision.Replan(failed);
        }

        var live = x.Live.ToList();
        return live.Count > 0 && live.All(s => s.State == StepStates.Succeeded)
            ? new RunDecision.Succeed(RunOutputs.Of(x))
            : new RunDecision.Continue();
    }

    public static string StepFailed(StepRow failed) => $"Step '{failed.Id}' failed: {failed.Error}";
}
