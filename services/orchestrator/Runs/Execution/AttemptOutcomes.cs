using System.Text.Json.Nodes;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>One attempt at a step, as it ended.</summary>
public sealed record StepAttempt(StepRow Step, int Number, DateTimeOffset Started, StepOutcome Outcome);

/// <summary>Where an attempt leaves its step.</summary>
public enum StepResolution
{
    Succeeded,

    /// <summary>A tool call waits for the tool service's approval; the run parks once nothing else runs.</summary>
    AwaitsApproval,

    /// <summary>Pending again, tried after <see cref="AttemptDecision.RetryAt"/>.</summary>
    Retries,

    /// <summary>Failed for good; the run re-plans around it when the step is replannable, else fails.</summary>
    Failed,
}

/// <summary>What an attempt's outcome changes in the run, and when the step is tried again if it is to be.</summary>
public sealed record AttemptDecision(StepResolution Resolution, RunChange Change, DateTimeOffset? RetryAt = null);

/// <summary>
/// The rules for an attempt's outcome: from the run as it stands, the attempt and when it ended, what to record and
/// what happens to the step next. Nothing here writes or waits; the run loop commits the change it returns.
/// </summary>
public static class AttemptOutcomes
{
    public static AttemptDecision Decide(RunExecution x, StepAttempt attempt, DateTimeOffset endedAt)
    {
        var log = new JsonObject
        {
            ["attempt"] = attempt.Number,
            ["startedAt"] = attempt.Started,
            ["endedAt"] = endedAt,
        };
        return attempt.Outcome switch
        {
            StepOutcome.Succeeded succeeded => Succeeded(x, attempt, succeeded, log),
            StepOutcome.Parked parked => Parked(attempt.Step, parked),
            StepOutcome.Failed failed => Failed(x, attempt, failed, log, endedAt),
            _ => throw new InvalidOperationException($"An attempt ended as {attempt.Outcome.GetType().Name}, which is retried before it is recorded."),
        };
    }

    /// <summary>A react turn that called tools is followed, in the same change, by its calls and the next turn.</summary>
    private static AttemptDecision Succeeded(RunExecution x, StepAttempt attempt, StepOutcome.Succeeded succeeded, JsonObject log)
    {
        var step = attempt.Step;
        var (output, next) = x.Agent.Mode == AgentMode.React && ReactTurns.IsTurn(step) && succeeded.Output is { } said
            ? ReactTurns.After(x.Agent, x.Steps, step, said)
            : (succeeded.Output, []);
        log["outcome"] = "succeeded";
        if (succeeded.Model is { } model)
        {
            log["model"] = model;
        }

        var change = Recorded(
            new StepChange
            {
                Id = step.Id, State = StepStates.Succeeded, Attempt = log, Output = output,
                ClearError = true, InvocationId = succeeded.InvocationId, CostUsd = succeeded.CostUsd, PromptTokens = succeeded.PromptTokens,
                CompletionTokens = succeeded.CompletionTokens, Finished = true,
            },
            new(RunEventTypes.StepSucceeded, step.Id, new JsonObject
            {
                ["attempt"] = attempt.Number,
                ["model"] = succeeded.Model,
                ["costUsd"] = succeeded.CostUsd,
                ["output"] = RunOutputs.Preview(output),
            }));
        change.NewSteps.AddRange(next);
        return new AttemptDecision(StepResolution.Succeeded, change);
    }

    /// <summary>A call asked again while it still waits is recorded quietly: its event was written when it first parked.</summary>
    private static AttemptDecision Parked(StepRow step, StepOutcome.Parked parked)
    {
        var change = new RunChange { Steps = { new StepChange { Id = step.Id, State = StepStates.WaitingApproval, InvocationId = parked.InvocationId } } };
        if (step.State != StepStates.WaitingApproval)
        {
            change.Events.Add(new(RunEventTypes.StepWaitingApproval, step.Id,
                new JsonObject { ["kind"] = step.Kind, ["tool"] = step.Tool, ["invocationId"] = parked.InvocationId }));
        }

        return new AttemptDecision(StepResolution.AwaitsApproval, change);
    }

    private static AttemptDecision Failed(RunExecution x, StepAttempt attempt, StepOutcome.Failed failed, JsonObject log, DateTimeOffset endedAt)
    {
        var step = attempt.Step;
        log["outcome"] = "failed";
        log["error"] = failed.Reason;
        var (retry, delay, replannable, retryable) = StepRetries.After(failed, attempt.Number, x.Agent.Retries);
        var change = Recorded(
            new StepChange
            {
                Id = step.Id, State = retry ? StepStates.Pending : StepStates.Failed, Attempt = log, Error = failed.Reason,
                Replannable = retry ? null : replannable, InvocationId = failed.InvocationId, Finished = !retry, CostUsd = failed.CostUsd,
                PromptTokens = failed.PromptTokens, CompletionTokens = failed.CompletionTokens,
            },
            retry
                ? new(RunEventTypes.StepRetrying, step.Id, new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason, ["delaySeconds"] = delay.TotalSeconds })
                : new(RunEventTypes.StepFailed, step.Id,
                    new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason, ["final"] = failed.Final, ["retryable"] = retryable }));
        return retry
            ? new AttemptDecision(StepResolution.Retries, change, endedAt + delay)
            : new AttemptDecision(StepResolution.Failed, change);
    }

    /// <summary>An attempt's record on its step, and its event; what the attempt paid counts on the run as on the step.</summary>
    private static RunChange Recorded(StepChange step, NewEvent recorded) => new()
    {
        CostUsd = step.CostUsd,
        PromptTokens = step.PromptTokens,
        CompletionTokens = step.CompletionTokens,
        Steps = { step },
        Events = { recorded },
    };
}
