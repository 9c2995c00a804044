using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>Which steps of a run may start, decided from the run's state alone.</summary>
public static class ReadySteps
{
    /// <summary>
    /// Adds to <paramref name="change"/> the start of each step it makes ready, so that a step's start is written in
    /// the statement that ends its dependency (or plans it) rather than in one of its own. Steps needing a person's
    /// decision first, and any start after a failure or with the budget spent, are left to the run loop. At most
    /// <paramref name="maxParallel"/> steps run at once, counting the <paramref name="busy"/> ones; a step is not
    /// started before its time in <paramref name="notBefore"/> (a retry's backoff).
    /// </summary>
    public static void StartWith(
        RunExecution x, RunChange change, DateTimeOffset now, int maxParallel, IReadOnlyCollection<string> busy,
        IReadOnlyDictionary<string, DateTimeOffset> notBefore)
    {
        var changed = change.Steps.Where(c => c.State is not null).GroupBy(c => c.Id).ToDictionary(g => g.Key, g => g.Last().State!, StringComparer.Ordinal);
        string StateOf(StepRow step) => changed.GetValueOrDefault(step.Id, step.State);
        var added = change.NewSteps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        bool Done(string id) => !added.Contains(id) && x.Steps.TryGetValue(id, out var dependency) && StateOf(dependency) == StepStates.Succeeded;

        var budget = x.Agent.BudgetUsd;
        if ((change.State ?? x.Run.State) != RunStates.Running || change.Steps.Any(c => c.State == StepStates.Failed)
            || x.Steps.Values.Any(s => StateOf(s) == StepStates.Failed) || budget is { } limit && x.Run.CostUsd + change.CostUsd >= limit)
        {
            return;
        }

        var slots = maxParallel - busy.Count;
        var startable = x.Steps.Values
            .Where(s => !added.Contains(s.Id) && !busy.Contains(s.Id) && StateOf(s) is StepStates.Pending or StepStates.Approved)
            .Where(s => !NeedsDecision(x.Agent, s.Kind, s.Tool, StateOf(s)) && (!notBefore.TryGetValue(s.Id, out var at) || at <= now))
            .Where(s => s.DependsOn.All(Done))
            .OrderBy(s => s.Position);
        foreach (var step in startable.Take(Math.Max(slots, 0)).ToList())
        {
            slots--;
            change.Steps.Add(new StepChange { Id = step.Id, State = StepStates.Running, Attempts = step.Attempts + 1, Started = true });
            change.Events.Add(Started(step.Id, step.Attempts + 1, step.Kind));
        }

        for (var i = 0; i < change.NewSteps.Count && slots > 0; i++)
        {
            var step = change.NewSteps[i];
            if (!NeedsDecision(x.Agent, step.Kind, step.Tool, StepStates.Pending) && step.DependsOn.All(Done))
            {
                slots--;
                change.NewSteps[i] = step with { Started = true };
                change.Events.Add(Started(step.Id, (x.Steps.GetValueOrDefault(step.Id)?.Attempts ?? 0) + 1, step.Kind));
            }
        }
    }

    /// <summary>Starts what a plan (or the first react turn) makes ready: nothing runs yet and nothing waits for a backoff.</summary>
    public static void StartWith(RunExecution x, RunChange change, DateTimeOffset now, int maxParallel) =>
        StartWith(x, change, now, maxParallel, [], new Dictionary<string, DateTimeOffset>());

    /// <summary>Steps whose dependencies all succeeded and that are not finished.</summary>
    public static IEnumerable<StepRow> Ready(RunExecution x) => x.Steps.Values
        .Where(s => s.State is StepStates.Pending or StepStates.Running or StepStates.Approved
            || s.State == StepStates.WaitingApproval && s.Kind == StepKinds.Tool && s.InvocationId is not null)
        .Where(s => s.DependsOn.All(d => x.Steps.TryGetValue(d, out var dependency) && dependency.State == StepStates.Succeeded))
        .OrderBy(s => s.Position);

    /// <summary>An approval step, or a tool the agent wants a person to approve first, waits for that decision before it runs.</summary>
    public static bool NeedsDecision(RunAgent agent, string kind, string? tool, string state) =>
        state == StepStates.Pending && (kind == StepKinds.Approval || kind == StepKinds.Tool && agent.Approvals.Require.Contains(tool));

    public static NewEvent Started(string stepId, int attempt, string kind) =>
        new(RunEventTypes.StepStarted, stepId, new JsonObject { ["attempt"] = attempt, ["kind"] = kind });
}
