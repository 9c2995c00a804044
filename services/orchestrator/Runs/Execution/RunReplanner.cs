using System.Text.Json.Nodes;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>Re-planning around a failed step: a new revision of the plan replaces the steps that had not succeeded.</summary>
public sealed class RunReplanner(RunCommitter committer, PlanCalls plans, TimeProvider time, ILogger<RunReplanner> logger)
{
    /// <summary>
    /// Asks the planning service for a revision around <paramref name="failed"/> and commits its steps in place of
    /// those that had not succeeded; null when it did, else why not.
    /// </summary>
    public async Task<string?> ReplanAsync(RunExecution x, StepRow failed, CancellationToken token)
    {
        var succeeded = x.Live.Where(s => s.State == StepStates.Succeeded).ToList();
        while (true)
        {
            switch (await plans.ReviseAsync(x.RunKey, x.Run, x.Agent, succeeded, failed, token))
            {
                case PlanCalls.Outcome.Made made:
                    await committer.CommitAsync(x, Revision(x, failed, succeeded, made.Plan));
                    return null;
                case PlanCalls.Outcome.Refused refused:
                    return refused.Reason;
                case PlanCalls.Outcome.Transient { ModelUnavailable: true } unavailable:
                    return unavailable.Reason;
                case PlanCalls.Outcome.Transient transient:
                    logger.AskingAgain(x.Run.Id, "re-plan", transient.Reason);
                    await Task.Delay(transient.RetryAfter, time, token);
                    break;
            }
        }
    }

    /// <summary>The succeeded steps stay as they ran; a live step the revision no longer names is superseded.</summary>
    private static RunChange Revision(RunExecution x, StepRow failed, IEnumerable<StepRow> succeeded, PlanCalls.Plan plan)
    {
        var kept = succeeded.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var planned = plan.Steps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        var change = new RunChange
        {
            PlanId = plan.Id,
            PlanRevision = plan.Revision,
            Replans = 1,
            Events =
            {
                new(RunEventTypes.RunReplanned, failed.Id, new JsonObject
                {
                    ["revision"] = plan.Revision,
                    ["reason"] = failed.Error,
                    ["steps"] = new JsonArray([.. plan.Steps.Select(s => JsonValue.Create(s.Id))]),
                }),
            },
        };
        change.NewSteps.AddRange(plan.Steps.Where(s => !kept.Contains(s.Id)));
        change.Steps.AddRange(x.Live.Where(s => s.State != StepStates.Succeeded && !planned.Contains(s.Id))
            .Select(s => new StepChange { Id = s.Id, State = StepStates.Superseded, Finished = true }));
        return change;
    }
}
