using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>
/// A run's first steps: the planning service's plan, or a react agent's first turn. They are committed with the
/// start of those ready to run, in one statement.
/// </summary>
public sealed class RunPlanner(RunCommitter committer, PlanCalls plans, RunEnding ending, IOptions<RunOptions> options, TimeProvider time,
    ILogger<RunPlanner> logger)
{
    /// <summary>True when the run has its steps; false when planning ended it.</summary>
    public async Task<bool> PlanAsync(RunExecution x, CancellationToken token)
    {
        if (x.Agent.Mode == AgentMode.React)
        {
            var start = new RunChange { State = RunStates.Running, Events = { new(RunEventTypes.RunStarted, null, new JsonObject { ["mode"] = "react" }) } };
            start.NewSteps.Add(ReactTurns.First());
            await StartAsync(x, start);
            return true;
        }

        if (x.Run.State == RunStates.Queued)
        {
            await committer.CommitAsync(x, new RunChange { State = RunStates.Planning, Events = { new(RunEventTypes.RunPlanning, null, []) } });
        }

        // The planner's model failing is counted like a step's attempts, and moves planning to the fallback model.
        var model = x.Agent.Model;
        var modelFailures = 0;
        while (true)
        {
            switch (await plans.PlanAsync(x.RunKey, x.Run, x.Agent, model, token))
            {
                case PlanCalls.Outcome.Made made:
                    await StartAsync(x, Planned(made.Plan));
                    return true;
                case PlanCalls.Outcome.Refused refused:
                    await ending.EndAsync(x, RunStates.Failed, refused.Reason);
                    return false;
                case PlanCalls.Outcome.Transient { ModelUnavailable: false } transient:
                    logger.AskingAgain(x.Run.Id, "plan", transient.Reason);
                    await Task.Delay(transient.RetryAfter, time, token);
                    break;
                case PlanCalls.Outcome.Transient unavailable:
                    modelFailures++;
                    if (modelFailures < x.Agent.Retries.MaxAttempts)
                    {
                        logger.AskingAgain(x.Run.Id, "plan", unavailable.Reason);
                        await Task.Delay(StepRetries.Backoff(x.Agent.Retries, modelFailures), time, token);
                    }
                    else if (x.Agent.FallbackModel is { } fallback && model != fallback)
                    {
                        logger.AskingFallback(x.Run.Id, "plan", fallback, unavailable.Reason);
                        (model, modelFailures) = (fallback, 0);
                    }
                    else
                    {
                        await ending.FailAsync(x, $"No plan could be made: {unavailable.Reason}", token);
                        return false;
                    }

                    break;
            }
        }
    }

    private static RunChange Planned(PlanCalls.Plan plan)
    {
        var change = new RunChange
        {
            State = RunStates.Running,
            PlanId = plan.Id,
            PlanRevision = plan.Revision,
            Events =
            {
                new(RunEventTypes.RunPlanned, null, new JsonObject
                {
                    ["planId"] = plan.Id,
                    ["revision"] = plan.Revision,
                    ["steps"] = new JsonArray([.. plan.Steps.Select(s => JsonValue.Create(s.Id))]),
                }),
            },
        };
        change.NewSteps.AddRange(plan.Steps);
        return change;
    }

    private Task StartAsync(RunExecution x, RunChange change)
    {
        ReadySteps.StartWith(x, change, time.GetUtcNow(), options.Value.MaxParallelStepsPerRun);
        return committer.CommitAsync(x, change);
    }
}
