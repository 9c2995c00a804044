using System.Text.Json.Nodes;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs;

/// <summary>What an attempt's outcome changes in the run, and when the step is tried again.</summary>
public sealed partial class RunExecutor
{
    /// <summary>What records an attempt's outcome, and when to try the step again, if it is to be.</summary>
    private (RunChange Change, DateTimeOffset? RetryAt) Record(RunExecution x, Attempt attempt)
    {
        var step = attempt.Step;
        var log = new JsonObject
        {
            ["attempt"] = attempt.Number,
            ["startedAt"] = attempt.Started,
            ["endedAt"] = time.GetUtcNow(),
        };
        switch (attempt.Outcome)
        {
            case StepOutcome.Succeeded succeeded:
                var (output, next) = x.Agent.Mode == "react" && ReactTurns.IsTurn(step) && succeeded.Output is { } said
                    ? ReactTurns.After(x.Agent, x.Steps, step, said)
                    : (succeeded.Output, []);
                log["outcome"] = "succeeded";
                if (succeeded.Model is { } model)
                {
                    log["model"] = model;
                }

                var success = new RunChange
                {
                    CostUsd = succeeded.CostUsd,
                    PromptTokens = succeeded.PromptTokens,
                    CompletionTokens = succeeded.CompletionTokens,
                    Steps =
                    {
                        new StepChange
                        {
                            Id = step.Id, State = StepStates.Succeeded, Attempt = log, Output = output,
                            ClearError = true, InvocationId = succeeded.InvocationId, CostUsd = succeeded.CostUsd, PromptTokens = succeeded.PromptTokens,
                            CompletionTokens = succeeded.CompletionTokens, Finished = true,
                        },
                    },
                    Events =
                    {
                        new("step.succeeded", step.Id, new JsonObject
                        {
                            ["attempt"] = attempt.Number,
                            ["model"] = succeeded.Model,
                            ["costUsd"] = succeeded.CostUsd,
                            ["output"] = Preview(output),
                        }),
                    },
                };
                success.NewSteps.AddRange(next);
                return (success, null);
            case StepOutcome.Parked parked:
                var park = new RunChange { Steps = { new StepChange { Id = step.Id, State = StepStates.WaitingApproval, InvocationId = parked.InvocationId } } };
                if (step.State != StepStates.WaitingApproval)
                {
                    park.Events.Add(new("step.waiting_approval", step.Id, new JsonObject { ["kind"] = step.Kind, ["tool"] = step.Tool, ["invocationId"] = parked.InvocationId }));
                }

                return (park, null);
            case StepOutcome.Failed failed:
                log["outcome"] = "failed";
                log["error"] = failed.Reason;
                var (retry, delay, replannable, retryable) = StepRetries.After(failed, attempt.Number, x.Agent.Retries);
                return (new RunChange
                {
                    CostUsd = failed.CostUsd,
                    PromptTokens = failed.PromptTokens,
                    CompletionTokens = failed.CompletionTokens,
                    Steps =
                    {
                        new StepChange
                        {
                            Id = step.Id, State = retry ? StepStates.Pending : StepStates.Failed, Attempt = log, Error = failed.Reason,
                            Replannable = retry ? null : replannable, InvocationId = failed.InvocationId, Finished = !retry, CostUsd = failed.CostUsd,
                            PromptTokens = failed.PromptTokens, CompletionTokens = failed.CompletionTokens,
                        },
                    },
                    Events =
                    {
                        retry
                            ? new("step.retrying", step.Id, new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason, ["delaySeconds"] = delay.TotalSeconds })
                            : new("step.failed", step.Id, new JsonObject { ["attempt"] = attempt.Number, ["error"] = failed.Reason, ["final"] = failed.Final, ["retryable"] = retryable }),
                    },
                }, retry ? time.GetUtcNow() + delay : null);
            default:
                throw new InvalidOperationException($"An attempt ended as {attempt.Outcome.GetType().Name}, which is retried before it is recorded.");
        }
    }
}
