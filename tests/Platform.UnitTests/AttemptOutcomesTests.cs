using System.Text.Json.Nodes;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs;
using Platform.Orchestrator.Runs.Execution;
using Platform.Orchestrator.Runs.Steps;
using static Platform.UnitTests.RunBuilder;

namespace Platform.UnitTests;

/// <summary>What each way an attempt can end records on its step, and what happens to the step next.</summary>
public sealed class AttemptOutcomesTests
{
    private static readonly DateTimeOffset Started = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Ended = Started.AddSeconds(3);

    [Fact]
    public void ASuccessFinishesTheStepWithItsOutputCostAndModel()
    {
        var step = Step("s1", StepStates.Running, attempts: 1);
        var x = Execution(Agent(), [step]);

        var decision = Decide(x, step, 1, new StepOutcome.Succeeded(JsonValue.Create("done"), 0.25m, 10, 5, Model: "simulator"));

        Assert.Equal(StepResolution.Succeeded, decision.Resolution);
        Assert.Null(decision.RetryAt);
        var change = Assert.Single(decision.Change.Steps);
        Assert.Equal((StepStates.Succeeded, true, true, 0.25m), (change.State, change.Finished, change.ClearError, change.CostUsd));
        Assert.Equal("\"done\"", change.Output!.ToJsonString());
        Assert.Equal((0.25m, 10, 5), (decision.Change.CostUsd, decision.Change.PromptTokens, decision.Change.CompletionTokens));
        Assert.Equal("succeeded", change.Attempt!["outcome"]!.GetValue<string>());
        Assert.Equal("simulator", change.Attempt["model"]!.GetValue<string>());
        Assert.Equal(Ended, change.Attempt["endedAt"]!.GetValue<DateTimeOffset>());
        var succeeded = Assert.Single(decision.Change.Events);
        Assert.Equal((RunEventTypes.StepSucceeded, "s1"), (succeeded.Type, succeeded.StepId));
        Assert.Equal("done", succeeded.Data["output"]!.GetValue<string>());
        Assert.Empty(decision.Change.NewSteps);
    }

    [Fact]
    public void AToolsSuccessNamesNoModelAndKeepsItsInvocation()
    {
        var step = Step("s1", StepStates.Running, attempts: 1, kind: StepKinds.Tool, tool: "http.get");
        var invocation = Guid.NewGuid();

        var decision = Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Succeeded(new JsonObject { ["status"] = 200 }, InvocationId: invocation));

        var change = Assert.Single(decision.Change.Steps);
        Assert.Equal(invocation, change.InvocationId);
        Assert.False(change.Attempt!.ContainsKey("model"));
    }

    [Fact]
    public void ALongOutputIsRecordedWholeAndShownCutInItsEvent()
    {
        var step = Step("s1", StepStates.Running, attempts: 1);
        var output = new string('x', 5000);

        var decision = Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Succeeded(JsonValue.Create(output)));

        Assert.Equal(output, Assert.Single(decision.Change.Steps).Output!.GetValue<string>());
        var shown = Assert.Single(decision.Change.Events).Data["output"]!.GetValue<string>();
        Assert.Equal(2049, shown.Length);
        Assert.EndsWith("…", shown, StringComparison.Ordinal);
    }

    [Fact]
    public void AReactTurnThatCallsToolsIsFollowedByItsCallsAndTheNextTurn()
    {
        var turn = Step("turn-1", StepStates.Running, attempts: 1);
        var x = Execution(Agent(AgentMode.React, tools: ["http.get"]), [turn], planned: false);
        var said = new JsonObject
        {
            ["content"] = null,
            ["toolCalls"] = new JsonArray(
                new JsonObject { ["id"] = "c0", ["name"] = "http__get", ["arguments"] = """{"url":"https://example.com"}""" },
                new JsonObject { ["id"] = "c1", ["name"] = "mail__send", ["arguments"] = "{}" }),
        };

        var decision = Decide(x, turn, 1, new StepOutcome.Succeeded(said));

        Assert.Equal(StepResolution.Succeeded, decision.Resolution);
        Assert.Equal(["turn-1-call-0", "turn-2"], decision.Change.NewSteps.Select(s => s.Id));
        Assert.Equal("http.get", decision.Change.NewSteps[0].Tool);
        Assert.Equal(["turn-1-call-0"], decision.Change.NewSteps[1].DependsOn);
        var recorded = Assert.Single(decision.Change.Steps).Output!;
        Assert.Contains("not one of this agent's tools", recorded["toolCalls"]![1]!["skipped"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void AStepNamedLikeATurnOfAPlannedAgentIsAnOrdinaryStep()
    {
        var step = Step("turn-1", StepStates.Running, attempts: 1);
        var said = new JsonObject { ["toolCalls"] = new JsonArray(new JsonObject { ["id"] = "c0", ["name"] = "http__get", ["arguments"] = "{}" }) };

        var decision = Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Succeeded(said));

        Assert.Empty(decision.Change.NewSteps);
    }

    [Fact]
    public void AParkedCallWaitsForApprovalAndSaysSoOnce()
    {
        var step = Step("s1", StepStates.Running, attempts: 1, kind: StepKinds.Tool, tool: "mail.send");
        var invocation = Guid.NewGuid();

        var decision = Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Parked(invocation));

        Assert.Equal(StepResolution.AwaitsApproval, decision.Resolution);
        Assert.Null(decision.RetryAt);
        var change = Assert.Single(decision.Change.Steps);
        Assert.Equal((StepStates.WaitingApproval, invocation), (change.State, change.InvocationId));
        Assert.Null(change.Attempt);
        var waiting = Assert.Single(decision.Change.Events);
        Assert.Equal(RunEventTypes.StepWaitingApproval, waiting.Type);
        Assert.Equal(invocation, waiting.Data["invocationId"]!.GetValue<Guid>());
    }

    [Fact]
    public void ACallStillWaitingWhenAskedAgainStaysParkedQuietly()
    {
        var step = Step("s1", StepStates.WaitingApproval, attempts: 1, kind: StepKinds.Tool, tool: "mail.send");

        var decision = Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Parked(Guid.NewGuid()));

        Assert.Equal(StepResolution.AwaitsApproval, decision.Resolution);
        Assert.Empty(decision.Change.Events);
    }

    [Fact]
    public void AFailureWithAttemptsLeftIsRetriedAfterTheBackoff()
    {
        var step = Step("s1", StepStates.Running, attempts: 1);

        var decision = Decide(Execution(Agent(backoffSeconds: 2), [step]), step, 1, new StepOutcome.Failed("upstream said no"));

        Assert.Equal(StepResolution.Retries, decision.Resolution);
        Assert.Equal(Ended.AddSeconds(2), decision.RetryAt);
        var change = Assert.Single(decision.Change.Steps);
        Assert.Equal((StepStates.Pending, false, (bool?)null, "upstream said no"), (change.State, change.Finished, change.Replannable, change.Error));
        Assert.Equal("failed", change.Attempt!["outcome"]!.GetValue<string>());
        var retrying = Assert.Single(decision.Change.Events);
        Assert.Equal(RunEventTypes.StepRetrying, retrying.Type);
        Assert.Equal(2, retrying.Data["delaySeconds"]!.GetValue<double>());
    }

    [Fact]
    public void EachRetryWaitsTwiceAsLongAsTheOneBefore()
    {
        var step = Step("s1", StepStates.Running, attempts: 3);

        var decision = Decide(Execution(Agent(maxAttempts: 5, backoffSeconds: 2), [step]), step, 3, new StepOutcome.Failed("again"));

        Assert.Equal(Ended.AddSeconds(8), decision.RetryAt);
    }

    [Fact]
    public void AFailureOfTheLastAttemptFailsTheStepForARePlan()
    {
        var step = Step("s1", StepStates.Running, attempts: 3);

        var decision = Decide(Execution(Agent(maxAttempts: 3), [step]), step, 3, new StepOutcome.Failed("still no"));

        Assert.Equal(StepResolution.Failed, decision.Resolution);
        Assert.Null(decision.RetryAt);
        var change = Assert.Single(decision.Change.Steps);
        Assert.Equal((StepStates.Failed, true, (bool?)true), (change.State, change.Finished, change.Replannable));
        AssertFailedEvent(decision, final: false, retryable: true);
    }

    [Fact]
    public void AFinalFailureIsNeitherRetriedNorPlannedAround()
    {
        var step = Step("s1", StepStates.Running, attempts: 1);

        var decision = Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Failed("Denied by a person.", Final: true));

        Assert.Equal(StepResolution.Failed, decision.Resolution);
        Assert.False(Assert.Single(decision.Change.Steps).Replannable);
        AssertFailedEvent(decision, final: true, retryable: false);
    }

    [Fact]
    public void AFailureTheSameCallWouldRepeatIsPlannedAroundAtOnce()
    {
        var step = Step("s1", StepStates.Running, attempts: 1, kind: StepKinds.Tool, tool: "http.get");

        var decision = Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Failed("The arguments are refused.") { Retryable = false });

        Assert.Equal(StepResolution.Failed, decision.Resolution);
        Assert.True(Assert.Single(decision.Change.Steps).Replannable);
        AssertFailedEvent(decision, final: false, retryable: false);
    }

    [Fact]
    public void AFailedAttemptStillPaysForWhatItUsed()
    {
        var step = Step("s1", StepStates.Running, attempts: 1);
        var refused = new StepOutcome.Failed("The answer did not pass its acceptance check: too short") { CostUsd = 0.5m, PromptTokens = 40, CompletionTokens = 7 };

        var decision = Decide(Execution(Agent(), [step]), step, 1, refused);

        Assert.Equal((0.5m, 40, 7), (decision.Change.CostUsd, decision.Change.PromptTokens, decision.Change.CompletionTokens));
        var change = Assert.Single(decision.Change.Steps);
        Assert.Equal((0.5m, 40, 7), (change.CostUsd, change.PromptTokens, change.CompletionTokens));
    }

    [Fact]
    public void ATransientOutcomeIsNeverRecorded()
    {
        var step = Step("s1", StepStates.Running, attempts: 1);

        Assert.Throws<InvalidOperationException>(() => Decide(Execution(Agent(), [step]), step, 1, new StepOutcome.Transient("restarting", TimeSpan.FromSeconds(1))));
    }

    private static AttemptDecision Decide(RunExecution x, StepRow step, int attempt, StepOutcome outcome) =>
        AttemptOutcomes.Decide(x, new StepAttempt(step, attempt, Started, outcome), Ended);

    private static void AssertFailedEvent(AttemptDecision decision, bool final, bool retryable)
    {
        var failed = Assert.Single(decision.Change.Events);
        Assert.Equal(RunEventTypes.StepFailed, failed.Type);
        Assert.Equal((final, retryable), (failed.Data["final"]!.GetValue<bool>(), failed.Data["retryable"]!.GetValue<bool>()));
    }
}
