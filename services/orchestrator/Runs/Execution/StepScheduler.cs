using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>
/// The run loop: starts ready steps in parallel, up to the run's share, commits each attempt's outcome as it comes
/// (with the start of the steps it makes ready), and once nothing runs ends the run, parks it or waits for a backoff.
/// </summary>
public sealed class StepScheduler(RunCommitter committer, StepAttemptRunner attempts, RunEnding ending, IOptions<RunOptions> options, TimeProvider time)
{
    private readonly RunOptions _options = options.Value;

    public async Task RunStepsAsync(RunExecution x, CancellationToken token)
    {
        var running = new Dictionary<string, Task<StepAttempt>>(StringComparer.Ordinal);
        var notBefore = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);

        // A tool call waiting for the tool service's approval is asked once per hold of the run; then the run parks.
        var parked = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            if (running.Count == 0 && await ending.EndIfDecidedAsync(x, token))
            {
                return;
            }

            var now = time.GetUtcNow();
            var failed = x.Steps.Values.Any(s => s.State == StepStates.Failed) || x.OverBudget;
            if (!failed)
            {
                foreach (var step in ReadySteps.Ready(x).Where(s => !running.ContainsKey(s.Id) && !parked.Contains(s.Id) && (!notBefore.TryGetValue(s.Id, out var at) || at <= now))
                    .Take(_options.MaxParallelStepsPerRun - running.Count).ToList())
                {
                    if (await GateAsync(x, step))
                    {
                        running[step.Id] = attempts.RunAsync(x, step, token);
                    }
                }
            }

            if (running.Count == 0)
            {
                if (failed)
                {
                    continue;
                }

                if (x.Steps.Values.Any(s => s.State == StepStates.WaitingApproval))
                {
                    await ending.ParkAsync(x, time.GetUtcNow() + _options.ApprovalRecheck);
                    return;
                }

                var next = notBefore.Values.Where(at => at > now).DefaultIfEmpty().Min();
                if (next == default)
                {
                    await ending.FailAsync(x, "No step can run: every remaining step depends on one that did not succeed.", token);
                    return;
                }

                if (next - now > _options.LongestInMemoryWait)
                {
                    await committer.CommitAsync(x, new RunChange { Release = true, WakeAt = next.UtcDateTime });
                    return;
                }

                await Task.Delay(next - now, time, token);
                continue;
            }

            var attempt = await await Task.WhenAny(running.Values);
            running.Remove(attempt.Step.Id);
            var decision = AttemptOutcomes.Decide(x, attempt, time.GetUtcNow());
            if (decision.Resolution == StepResolution.AwaitsApproval)
            {
                parked.Add(attempt.Step.Id);
            }

            if (decision.RetryAt is { } retryAt)
            {
                notBefore[attempt.Step.Id] = retryAt;
            }

            ReadySteps.StartWith(x, decision.Change, time.GetUtcNow(), _options.MaxParallelStepsPerRun, running.Keys, notBefore);
            await committer.CommitAsync(x, decision.Change);
        }
    }

    /// <summary>
    /// An approval step, or a tool the agent says needs a human first, waits for a decision through the runs API; true
    /// when the step may run now.
    /// </summary>
    private async Task<bool> GateAsync(RunExecution x, StepRow step)
    {
        if (!ReadySteps.NeedsDecision(x.Agent, step.Kind, step.Tool, step.State))
        {
            return true;
        }

        await committer.CommitAsync(x, new RunChange
        {
            Steps = { new StepChange { Id = step.Id, State = StepStates.WaitingApproval } },
            Events = { new(RunEventTypes.StepWaitingApproval, step.Id, new JsonObject { ["kind"] = step.Kind, ["tool"] = step.Tool, ["decidedHere"] = true }) },
        });
        return false;
    }
}
