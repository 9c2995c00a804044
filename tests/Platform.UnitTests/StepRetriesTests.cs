using Platform.Orchestrator.Runs;
using Platform.Orchestrator.Runs.Steps;

namespace Platform.UnitTests;

public sealed class StepRetriesTests
{
    private static readonly RunAgentRetries Retries = new(MaxAttempts: 3, BackoffSeconds: 2);

    [Fact]
    public void AFailureTheSameCallWouldRepeatIsPlannedAroundWithoutAnotherAttempt()
    {
        var decision = StepRetries.After(new StepOutcome.Failed("Cannot evaluate the expression") { Retryable = false }, attempt: 1, Retries);

        Assert.Equal(new RetryDecision(Retry: false, Delay: TimeSpan.Zero, Replannable: true, Retryable: false), decision);
    }

    [Theory]
    [InlineData(1, 2)]
    [InlineData(2, 4)]
    public void ARetryableFailureIsTriedAgainAfterADoublingBackoff(int attempt, int seconds)
    {
        var decision = StepRetries.After(new StepOutcome.Failed("The endpoint answered 503"), attempt, Retries);

        Assert.True(decision.Retry);
        Assert.Equal(TimeSpan.FromSeconds(seconds), decision.Delay);
    }

    [Fact]
    public void ARetryableFailureWithItsAttemptsSpentIsPlannedAroundAndSaysAnotherAttemptCouldHaveHelped()
    {
        var decision = StepRetries.After(new StepOutcome.Failed("The endpoint answered 503"), attempt: 3, Retries);

        Assert.Equal(new RetryDecision(Retry: false, Delay: TimeSpan.Zero, Replannable: true, Retryable: true), decision);
    }

    [Fact]
    public void AFinalFailureIsNeitherTriedAgainNorPlannedAround()
    {
        var decision = StepRetries.After(new StepOutcome.Failed("The call was denied", Final: true), attempt: 1, Retries);

        Assert.Equal(new RetryDecision(Retry: false, Delay: TimeSpan.Zero, Replannable: false, Retryable: false), decision);
    }
}
