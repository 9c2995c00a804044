using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs.Steps;

/// <summary>How one attempt at a step ended.</summary>
public abstract record StepOutcome
{
    /// <summary>Done: the output, and what it cost and which model answered (model calls).</summary>
    public sealed record Succeeded(
        JsonNode? Output, decimal CostUsd = 0, int PromptTokens = 0, int CompletionTokens = 0, Guid? InvocationId = null, string? Model = null) : StepOutcome;

    /// <summary>
    /// The step's own failure (a refused call, a failed tool, a denial): retried up to the agent's attempts, then
    /// planned around, unless it is <paramref name="Final"/> (a person's denial, a spent budget, an outcome nobody knows).
    /// </summary>
    public sealed record Failed(string Reason, Guid? InvocationId = null, bool Final = false, bool ModelUnavailable = false) : StepOutcome
    {
        /// <summary>
        /// False when the same call would fail the same way (arguments the tool refuses, as the tool service says):
        /// no attempt repeats it, the step is planned around at once.
        /// </summary>
        public bool Retryable { get; init; } = true;

        /// <summary>What the attempt paid although it failed (an answer its acceptance check refused).</summary>
        public decimal CostUsd { get; init; }

        public int PromptTokens { get; init; }

        public int CompletionTokens { get; init; }
    }

    /// <summary>A tool call waits for a human decision: the run parks without holding a worker.</summary>
    public sealed record Parked(Guid InvocationId) : StepOutcome;

    /// <summary>
    /// The platform, not the step, failed (a service restarting, a rate limit, a key not yet indexed): the same call
    /// is repeated after the delay, with the same idempotency key, and costs no attempt.
    /// </summary>
    public sealed record Transient(string Reason, TimeSpan RetryAfter) : StepOutcome;
}
