using System.Text.Json.Nodes;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>Undoing what a failing run's steps did (a saga's compensations), each recorded on the step it undoes.</summary>
public sealed class RunCompensator(RunCommitter committer, ToolCalls tools, TimeProvider time, ILogger<RunCompensator> logger)
{
    /// <summary>
    /// Gives each succeeded step with a compensation its compensating call, newest first, each committed as it ends
    /// so a replica taking over asks only the rest. Returns what the run's reason says of them.
    /// </summary>
    public async Task<string> UndoAsync(RunExecution x, CancellationToken token)
    {
        var toUndo = x.Live.Where(s => s.State == StepStates.Succeeded && s.Compensation is not null && s.CompensationState is null)
            .OrderByDescending(s => s.FinishedAt).ThenByDescending(s => s.Position).ToList();
        foreach (var step in toUndo)
        {
            await CompensateAsync(x, step, token);
        }

        var undone = x.Live.Where(s => s.CompensationState is not null).ToList();
        var failures = undone.Where(s => s.CompensationState == StepStates.Failed).Select(s => s.Id).ToList();
        return undone.Count == 0 ? ""
            : failures.Count == 0 ? $" Compensated: {string.Join(", ", undone.Select(s => s.Id))}."
            : $" Compensation failed for: {string.Join(", ", failures)}.";
    }

    private async Task CompensateAsync(RunExecution x, StepRow step, CancellationToken token)
    {
        var (tool, arguments) = StepInputs.Compensation(step, x.Steps);
        var key = $"run:{x.Run.Id}:step:{step.Id}:attempt:{step.Attempts}:compensate";
        StepOutcome outcome;
        while ((outcome = await tools.InvokeAsync(x.RunKey, tool, arguments, key, x.Run.Id, step.Id, token)) is StepOutcome.Transient transient)
        {
            logger.AskingAgain(x.Run.Id, $"{step.Id} compensation", transient.Reason);
            await Task.Delay(transient.RetryAfter, time, token);
        }

        var error = outcome switch
        {
            StepOutcome.Succeeded => null,
            StepOutcome.Failed failed => failed.Reason,
            StepOutcome.Parked parked => $"The call {parked.InvocationId} waits for an approval; it runs if it is approved, after the run ended.",
            _ => $"The call ended as {outcome.GetType().Name}.",
        };
        await committer.CommitAsync(x, new RunChange
        {
            Steps = { new StepChange { Id = step.Id, CompensationState = error is null ? StepStates.Succeeded : StepStates.Failed, CompensationError = error } },
            Events =
            {
                new(error is null ? RunEventTypes.StepCompensated : RunEventTypes.StepCompensationFailed, step.Id, new JsonObject
                {
                    ["tool"] = tool,
                    ["arguments"] = arguments.DeepClone(),
                    ["output"] = outcome is StepOutcome.Succeeded { Output: { } output } ? RunOutputs.Preview(output) : null,
                    ["error"] = error,
                }),
            },
        });
    }
}
