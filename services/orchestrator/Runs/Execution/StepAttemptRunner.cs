using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.Orchestrator.Runs.Execution;

/// <summary>
/// One attempt at a step: recorded as started before it calls out (ADR 0005), bounded by the step's timeout and the
/// tenant's share of concurrent steps, and asked again under the same key while the platform, not the step, fails.
/// </summary>
public sealed class StepAttemptRunner(RunCommitter committer, StepCalls calls, IOptions<RunOptions> options, TimeProvider time, ILogger<StepAttemptRunner> logger)
{
    private readonly RunOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _tenantSlots = new(StringComparer.Ordinal);

    public async Task<StepAttempt> RunAsync(RunExecution x, StepRow step, CancellationToken token)
    {
        // A step found running was interrupted: its attempt is asked again under the same idempotency key.
        var resumed = step.State is StepStates.Running or StepStates.WaitingApproval;
        var number = resumed ? Math.Max(step.Attempts, 1) : step.Attempts + 1;
        var started = time.GetUtcNow();
        if (!resumed)
        {
            await committer.CommitAsync(x, new RunChange
            {
                State = x.Run.State == RunStates.Running ? null : RunStates.Running,
                Steps = { new StepChange { Id = step.Id, State = StepStates.Running, Attempts = number, Started = true } },
                Events = { ReadySteps.Started(step.Id, number, step.Kind) },
            });
        }

        var slot = _tenantSlots.GetOrAdd(x.Run.TenantId, _ => new SemaphoreSlim(_options.MaxConcurrentStepsPerTenant));
        await slot.WaitAsync(token);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
            timeout.CancelAfter(TimeSpan.FromSeconds(x.Agent.Timeouts.StepSeconds));
            var key = $"run:{x.Run.Id}:step:{step.Id}:attempt:{number}";
            try
            {
                while (true)
                {
                    var outcome = await calls.CallAsync(x, step, key, timeout.Token);
                    if (outcome is not StepOutcome.Transient transient)
                    {
                        return new StepAttempt(step, number, started, outcome);
                    }

                    logger.AskingAgain(x.Run.Id, step.Id, transient.Reason);
                    await Task.Delay(transient.RetryAfter, time, timeout.Token);
                }
            }
            catch (OperationCanceledException) when (!token.IsCancellationRequested)
            {
                return new StepAttempt(step, number, started, new StepOutcome.Failed($"The step took longer than its {x.Agent.Timeouts.StepSeconds} s."));
            }
        }
        finally
        {
            slot.Release();
        }
    }
}
