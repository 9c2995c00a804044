using Platform.Orchestrator.Runs;
using Platform.Orchestrator.Runs.Execution;
using static Platform.UnitTests.RunBuilder;

namespace Platform.UnitTests;

/// <summary>Which steps a commit starts along with the change it writes, so that no start costs a statement of its own.</summary>
public sealed class ReadyStepsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AStepsEndStartsTheStepsWaitingOnlyForIt()
    {
        var x = Execution(Agent(), [Step("s1", StepStates.Running, attempts: 1), Step("s2", dependsOn: ["s1"]), Step("s3", dependsOn: ["s1", "s2"])]);
        var change = Ends("s1");

        ReadySteps.StartWith(x, change, Now, maxParallel: 4, [], new Dictionary<string, DateTimeOffset>());

        var started = change.Steps.Single(s => s.Id == "s2");
        Assert.Equal((StepStates.Running, (int?)1, true), (started.State, started.Attempts, started.Started));
        Assert.DoesNotContain(change.Steps, s => s.Id == "s3");
        Assert.Equal(RunEventTypes.StepStarted, Assert.Single(change.Events).Type);
    }

    [Fact]
    public void NoMoreStepsStartThanTheRunsShareLeavesRoomFor()
    {
        var x = Execution(Agent(), [Step("s1", StepStates.Running, attempts: 1), Step("s2", dependsOn: ["s1"]), Step("s3", dependsOn: ["s1"]), Step("s4", dependsOn: ["s1"])]);
        var change = Ends("s1");

        ReadySteps.StartWith(x, change, Now, maxParallel: 3, ["s9"], new Dictionary<string, DateTimeOffset>());

        Assert.Equal(["s1", "s2", "s3"], change.Steps.Select(s => s.Id));
    }

    [Fact]
    public void AStepInItsBackoffOrNeedingAPersonWaitsForTheRunLoop()
    {
        var x = Execution(Agent(requireApproval: ["mail.send"]), [
            Step("s1", StepStates.Running, attempts: 1),
            Step("s2", dependsOn: ["s1"], attempts: 1),
            Step("s3", dependsOn: ["s1"], kind: StepKinds.Tool, tool: "mail.send"),
            Step("s4", dependsOn: ["s1"], kind: StepKinds.Approval),
        ]);
        var change = Ends("s1");

        ReadySteps.StartWith(x, change, Now, maxParallel: 4, [], new Dictionary<string, DateTimeOffset> { ["s2"] = Now.AddSeconds(1) });

        Assert.Equal(["s1"], change.Steps.Select(s => s.Id));
    }

    [Fact]
    public void NothingStartsOnceAStepFailedOrTheBudgetIsSpent()
    {
        var failing = Execution(Agent(), [Step("s1", StepStates.Failed), Step("s2", StepStates.Succeeded), Step("s3", dependsOn: ["s2"])]);
        var spent = Execution(Agent(budgetUsd: 1m), [Step("s1", StepStates.Running, attempts: 1), Step("s2", dependsOn: ["s1"])], costUsd: 0.5m);
        var paid = new RunChange { CostUsd = 0.5m, Steps = { new StepChange { Id = "s1", State = StepStates.Succeeded } } };

        var afterFailure = Ends("s2");
        ReadySteps.StartWith(failing, afterFailure, Now, maxParallel: 4);
        ReadySteps.StartWith(spent, paid, Now, maxParallel: 4);

        Assert.Single(afterFailure.Steps);
        Assert.Single(paid.Steps);
    }

    [Fact]
    public void APlansFirstStepsStartInTheStatementThatPlansThem()
    {
        var x = Execution(Agent(), []);
        var plan = new RunChange { State = RunStates.Running };
        plan.NewSteps.AddRange([
            new NewStep("s1", 1, StepKinds.Model, "Draft", "Write it.", null, null, [], null, null),
            new NewStep("s2", 2, StepKinds.Model, "Edit", "Edit it.", null, null, ["s1"], null, null),
        ]);

        ReadySteps.StartWith(x, plan, Now, maxParallel: 4);

        Assert.Equal([true, false], plan.NewSteps.Select(s => s.Started));
        Assert.Equal(1, Assert.Single(plan.Events).Data["attempt"]!.GetValue<int>());
    }

    [Fact]
    public void AToolWaitingForTheToolServicesApprovalIsAskedAgainButAGateIsNot()
    {
        var x = Execution(Agent(), [
            Step("s1", StepStates.WaitingApproval, kind: StepKinds.Tool, tool: "mail.send"),
            Step("s2", StepStates.WaitingApproval, kind: StepKinds.Approval),
        ]);
        x.Steps["s1"].InvocationId = Guid.NewGuid();

        Assert.Equal(["s1"], ReadySteps.Ready(x).Select(s => s.Id));
    }

    private static RunChange Ends(string stepId) => new() { Steps = { new StepChange { Id = stepId, State = StepStates.Succeeded } } };
}
