
namespace Platform.Orchestrator.Runs.Execution;

/// <summary>A run as this replica knows it while it holds it.</summary>
public sealed class RunExecution(RunRow run, IReadOnlyList<StepRow> steps, RunAgent agent, string runKey, string owner)
{
    public RunRow Run { get; } = run;
    public Dictionary<string, StepRow> Steps { get; } = steps.ToDictionary(s => s.Id, StringComparer.Ordinal);
    public RunAgent Agent { get; } = agent;
    public string RunKey { get; } = runKey;
    public string Owner { get; } = owner;

    /// <summary>The steps of the plan's current revision: those a re-plan replaced are history.</summary>
    public IEnumerable<StepRow> Live => Steps.Values.Where(s => s.State != StepStates.Superseded);

    public bool OverBudget => Agent.BudgetUsd is { } budget && Run.CostUsd >= budget;

    public string BudgetSpent => $"The run's budget of {Agent.BudgetUsd} USD is spent ({Run.CostUsd} USD).";

    /// <summary>A step no live step depends on: the run's output is made of these steps' answers.</summary>
    public bool IsLast(StepRow step) => !Live.Any(s => s.DependsOn.Contains(step.Id));

    /// <summary>Keeps this copy equal to what <see cref="RunStore.CommitAsync"/> wrote.</summary>
    public void Apply(RunChange change, DateTime now)
    {
        Run.State = change.State ?? Run.State;
        Run.Reason = change.Reason ?? Run.Reason;
        Run.PlanId = change.PlanId ?? Run.PlanId;
        Run.PlanRevision = change.PlanRevision ?? Run.PlanRevision;
        Run.Replans += change.Replans;
        Run.CostUsd += change.CostUsd;
        Run.PromptTokens += change.PromptTokens;
        Run.CompletionTokens += change.CompletionTokens;
        foreach (var step in change.NewSteps)
        {
            // A step a re-plan replaced keeps counting its attempts, as its row does.
            var replaced = Steps.GetValueOrDefault(step.Id);
            Steps[step.Id] = new StepRow
            {
                RunId = Run.Id, Id = step.Id, Position = step.Position, Kind = step.Kind, Title = step.Title, Instruction = step.Instruction,
                Tool = step.Tool, Arguments = step.Arguments?.ToJsonString(), DependsOn = step.DependsOn, Acceptance = step.Acceptance,
                Compensation = step.Compensation?.ToJsonString(), AttemptLog = replaced?.AttemptLog ?? "[]",
                State = step.Started ? StepStates.Running : StepStates.Pending,
                Attempts = (replaced?.Attempts ?? 0) + (step.Started ? 1 : 0),
                StartedAt = step.Started ? now : null,
            };
        }

        foreach (var stepChange in change.Steps)
        {
            var step = Steps[stepChange.Id];
            step.State = stepChange.State ?? step.State;
            step.Attempts = stepChange.Attempts ?? step.Attempts;
            step.Output = stepChange.Output?.ToJsonString() ?? step.Output;
            step.Error = stepChange.ClearError ? null : stepChange.Error ?? step.Error;
            step.Replannable = stepChange.Replannable ?? step.Replannable;
            step.CompensationState = stepChange.ClearCompensation ? null : stepChange.CompensationState ?? step.CompensationState;
            step.CompensationError = stepChange.ClearCompensation ? null : stepChange.CompensationError ?? step.CompensationError;
            step.InvocationId = stepChange.InvocationId ?? step.InvocationId;
            step.CostUsd += stepChange.CostUsd;
            step.StartedAt = stepChange.Started ? now : step.StartedAt;
            step.FinishedAt = stepChange.Finished ? now : step.FinishedAt;
        }
    }
}
