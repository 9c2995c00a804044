namespace Platform.Orchestrator.Runs.Execution;

/// <summary>
/// Drives one run while this replica holds its lease: plans it (<see cref="RunPlanner"/>), runs its steps
/// (<see cref="StepScheduler"/>) and ends it (<see cref="RunEnding"/>). Everything they decide is committed through
/// <see cref="RunCommitter"/> before it is acted on, so whichever replica holds the run next carries on from the last
/// commit: a step that was running is asked again with the same idempotency key, and the model gateway and tool
/// service answer with what they recorded.
/// </summary>
public sealed partial class RunExecutor(
    RunKeys keys, RunCommitter committer, RunPlanner planner, StepScheduler scheduler, RunEnding ending, TimeProvider time, ILogger<RunExecutor> logger)
{
    public async Task ExecuteAsync(RunRow run, IReadOnlyList<StepRow> steps, string owner, RunControl control)
    {
        var execution = new RunExecution(run, steps, RunAgent.Read(run.AgentDefinition), keys.Reveal(run), owner);
        var token = control.Token;
        try
        {
            if (run.CancelRequested)
            {
                await ending.EndAsync(execution, RunStates.Cancelled, "Cancelled on request.");
                return;
            }

            if (time.GetUtcNow().UtcDateTime >= run.Deadline)
            {
                await ending.EndAsync(execution, RunStates.TimedOut, $"The run passed its deadline ({run.Deadline:O}).");
                return;
            }

            if (run.State is RunStates.Queued or RunStates.Planning && !await planner.PlanAsync(execution, token))
            {
                return;
            }

            await scheduler.RunStepsAsync(execution, token);
        }
        catch (LeaseLostException)
        {
            LogLeaseLost(run.Id);
        }
        catch (OperationCanceledException) when (control.CancelRequested)
        {
            await ending.EndAsync(execution, RunStates.Cancelled, "Cancelled on request.");
        }
        catch (OperationCanceledException) when (control.DeadlinePassed)
        {
            await ending.EndAsync(execution, RunStates.TimedOut, $"The run passed its deadline ({run.Deadline:O}).");
        }
        catch (OperationCanceledException) when (control.Stopping)
        {
            // The replica is stopping: give the run up at once so another replica resumes it without waiting for the lease.
            await committer.TryCommitAsync(execution, new RunChange { Release = true });
        }
        catch (OperationCanceledException)
        {
            // The lease renewal found the run held by another replica.
            LogLeaseLost(run.Id);
        }
    }

    [LoggerMessage(LogLevel.Warning, "Run {RunId} is no longer held by this replica; another one carries it on")]
    private partial void LogLeaseLost(Guid runId);
}
