using System.Text.Json.Nodes;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs;
using Platform.Orchestrator.Runs.Execution;
using static Platform.UnitTests.RunBuilder;

namespace Platform.UnitTests;

/// <summary>Whether a run whose attempts have all ended fails, re-plans, succeeds or goes on.</summary>
public sealed class RunProgressTests
{
    [Fact]
    public void ASpentBudgetFailsTheRunWhateverItsSteps()
    {
        var x = Execution(Agent(budgetUsd: 1m), [Step("s1", StepStates.Succeeded, output: "\"a\""), Step("s2")], costUsd: 1m);

        var fail = Assert.IsType<RunDecision.Fail>(RunProgress.Decide(x));

        Assert.Equal("The run's budget of 1 USD is spent (1 USD).", fail.Reason);
    }

    [Fact]
    public void AStepThatFailedForGoodFailsTheRun()
    {
        var x = Execution(Agent(), [Step("s1", StepStates.Failed, error: "Denied.", replannable: false), Step("s2")]);

        Assert.Equal(new RunDecision.Fail("Step 's1' failed: Denied."), RunProgress.Decide(x));
    }

    [Fact]
    public void AReplannableFailureIsPlannedAround()
    {
        var failed = Step("s1", StepStates.Failed, error: "404", replannable: true);
        var x = Execution(Agent(maxReplans: 2), [failed, Step("s2", dependsOn: ["s1"])], replans: 1);

        var replan = Assert.IsType<RunDecision.Replan>(RunProgress.Decide(x));

        Assert.Same(failed, replan.Failed);
    }

    [Fact]
    public void NoMoreRePlansThanTheAgentAllows()
    {
        var x = Execution(Agent(maxReplans: 2), [Step("s1", StepStates.Failed, error: "404", replannable: true)], replans: 2);

        Assert.Equal(new RunDecision.Fail("Step 's1' failed: 404"), RunProgress.Decide(x));
    }

    [Fact]
    public void AReactRunHasNoPlanToRevise()
    {
        var x = Execution(Agent(AgentMode.React), [Step("turn-1", StepStates.Failed, error: "no", replannable: true)], planned: false);

        Assert.IsType<RunDecision.Fail>(RunProgress.Decide(x));
    }

    [Fact]
    public void WhenEveryStepSucceededTheLastStepsAnswerIsTheOutput()
    {
        var x = Execution(Agent(), [Step("s1", StepStates.Succeeded, output: "\"draft\""), Step("s2", StepStates.Succeeded, dependsOn: ["s1"], output: "\"final\"")]);

        var succeed = Assert.IsType<RunDecision.Succeed>(RunProgress.Decide(x));

        Assert.Equal("final", succeed.Output!.GetValue<string>());
    }

    [Fact]
    public void AnAnswerThatIsJsonIsTheOutputItselfAndSeveralLastStepsAnswerByStepId()
    {
        var x = Execution(Agent(), [
            Step("s1", StepStates.Succeeded, output: JsonValue.Create("""{"title":"Report"}""").ToJsonString()),
            Step("s2", StepStates.Succeeded, output: "\"plain\""),
            Step("s3", StepStates.Superseded, output: "\"replaced\""),
        ]);

        var succeed = Assert.IsType<RunDecision.Succeed>(RunProgress.Decide(x));

        Assert.Equal("""{"s1":{"title":"Report"},"s2":"plain"}""", succeed.Output!.ToJsonString());
    }

    [Theory]
    [InlineData(StepStates.Pending)]
    [InlineData(StepStates.Running)]
    [InlineData(StepStates.WaitingApproval)]
    public void ARunWithAStepStillToFinishGoesOn(string state)
    {
        var x = Execution(Agent(), [Step("s1", StepStates.Succeeded, output: "\"a\""), Step("s2", state, dependsOn: ["s1"])]);

        Assert.IsType<RunDecision.Continue>(RunProgress.Decide(x));
    }

    [Fact]
    public void ARunWithoutStepsHasNotSucceeded() => Assert.IsType<RunDecision.Continue>(RunProgress.Decide(Execution(Agent(), [])));
}
