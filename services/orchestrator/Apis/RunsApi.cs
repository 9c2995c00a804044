using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Runs;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Net;

namespace Platform.Orchestrator.Apis;

/// <summary>Durable runs of agents: start, watch, steer.</summary>
public static class RunsApi
{
    private const int MaxGoalLength = 32 * 1024;
    private const int MaxInputBytes = 64 * 1024;
    private const int MaxMetadataBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/runs").WithTags("Runs").RequireScope(Scopes.Runs);

        api.MapPost("/", CreateRun);
        api.MapGet("/", ListRuns);
        api.MapGet("/{runId:guid}", GetRun);
        api.MapPost("/{runId:guid}/cancel", CancelRun);
        api.MapPost("/{runId:guid}/retry", RetryRun);
        api.MapGet("/{runId:guid}/events", RunEventStream.StreamAsync);

        var decisions = app.MapGroup("/v1/runs").WithTags("Runs").RequireScope(Scopes.Approve);
        decisions.MapPost("/{runId:guid}/steps/{stepId}/approve", ApproveStep);
        decisions.MapPost("/{runId:guid}/steps/{stepId}/deny", DenyStep);

        return app;
    }

    /// <summary>
    /// Accepts a run (202) of the agent's latest version, or of <c>agentVersion</c>. A repeated <c>Idempotency-Key</c>
    /// answers the run it first made (200, <c>Idempotent-Replayed: true</c>); the same key for another request is a 409.
    /// </summary>
    public static async Task<IResult> CreateRun(CreateRunRequest request, HttpContext context, AgentStore agents, RunStore runs, RunOperations operations)
    {
        var errors = Validate(request);
        if (!IdempotencyKeys.TryRead(context.Request.Headers, out var idempotencyKey))
        {
            errors[IdempotencyKeys.Header] = [IdempotencyKeys.Rule];
        }

        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        var tenantId = context.User.TenantId();
        if (await agents.FindAsync(tenantId, request.Agent!, request.AgentVersion) is not { } agent)
        {
            return ValidationProblems.For("agent",
                request.AgentVersion is { } v ? $"Agent '{request.Agent}' has no version {v}." : $"No agent named '{request.Agent}'.");
        }

        var (row, created) = await operations.StartAsync(agent,
            new RunRequest(tenantId, context.User.KeyId(), request.Goal!, request.Input, request.Metadata, request.WebhookUrl, idempotencyKey!));
        if (created)
        {
            return TypedResults.Accepted($"/v1/runs/{row.Id}", RunDto.From(row, []));
        }

        if (row.Agent != agent.Name || row.Goal != request.Goal || request.AgentVersion is { } asked && asked != row.AgentVersion)
        {
            return TypedResults.Problem($"Idempotency key '{idempotencyKey}' was used for another run ({row.Id}).",
                statusCode: StatusCodes.Status409Conflict, title: "Idempotency key reused");
        }

        context.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        return TypedResults.Ok(RunDto.From(row, await runs.StepsAsync(row.Id)));
    }

    public static async Task<Results<Ok<IReadOnlyList<RunSummaryDto>>, ValidationProblem>> ListRuns(
        HttpContext context, RunStore runs, string? agent, string? state, DateTime? since, DateTime? until, DateTime? before, int? limit)
    {
        if (!Paging.TryTake(limit, out var take, out var problem))
        {
            return problem;
        }

        if (state is not null && !RunStates.All.Contains(state))
        {
            return ValidationProblems.For("state", $"One of {string.Join(", ", RunStates.All)}.");
        }

        var rows = await runs.ListAsync(context.User.TenantId(), new RunFilter(agent, state, Utc(since), Utc(until), Utc(before), take));
        return TypedResults.Ok<IReadOnlyList<RunSummaryDto>>([.. rows.Select(RunSummaryDto.From)]);
    }

    public static async Task<Results<Ok<RunDto>, NotFound>> GetRun(Guid runId, HttpContext context, RunStore runs) =>
        await runs.FindAsync(context.User.TenantId(), runId) is { } run ? TypedResults.Ok(RunDto.From(run, await runs.StepsAsync(run.Id))) : TypedResults.NotFound();

    /// <summary>
    /// Cancels a run: at once when no replica holds it (queued, parked), else the holder stops it within moments
    /// (202 either way). A finished run is a 409.
    /// </summary>
    public static async Task<IResult> CancelRun(Guid runId, HttpContext context, RunStore runs, RunOperations operations)
    {
        var tenantId = context.User.TenantId();
        if (await runs.FindAsync(tenantId, runId) is not { } run)
        {
            return TypedResults.NotFound();
        }

        if (RunStates.IsTerminal(run.State))
        {
            return TypedResults.Problem($"The run has ended ({run.State}).", statusCode: StatusCodes.Status409Conflict, title: "Run ended");
        }

        var cancelled = await operations.CancelAsync(tenantId, runId);
        return TypedResults.Accepted($"/v1/runs/{runId}", RunDto.From(cancelled!, await runs.StepsAsync(runId)));
    }

    /// <summary>
    /// Runs a failed, timed-out or cancelled run again from where it stopped: succeeded steps are kept, failed ones
    /// start over, and so do steps whose effect a compensation undid.
    /// </summary>
    public static async Task<IResult> RetryRun(Guid runId, HttpContext context, RunStore runs, RunKeys runKeys, RunSignals signals, RunOperations operations, IOptions<RunOptions> options)
    {
        var tenantId = context.User.TenantId();
        if (await runs.FindAsync(tenantId, runId) is not { } run)
        {
            return TypedResults.NotFound();
        }

        if (run.State is not (RunStates.Failed or RunStates.TimedOut or RunStates.Cancelled))
        {
            return TypedResults.Problem($"Only a failed, timed-out or cancelled run is retried; this one is {run.State}.",
                statusCode: StatusCodes.Status409Conflict, title: "Run not retryable");
        }

        var steps = await runs.StepsAsync(runId);
        var again = steps.Where(s => s.State == StepStates.Failed || s.CompensationState == StepStates.Succeeded).ToList();
        var key = runKeys.Mint();
        var change = new RunChange
        {
            State = run.PlanId is null ? RunStates.Queued : RunStates.Running,
            Reopen = RunAgent.Read(run.AgentDefinition).Timeouts.RunSeconds,
            NewKey = key,
            WakeAt = DateTime.UtcNow,
            Events = { new(RunEventTypes.RunRetried, null, new JsonObject { ["steps"] = new JsonArray([.. again.Select(s => JsonValue.Create(s.Id))]) }) },
        };
        change.Steps.AddRange(again.Select(s => new StepChange { Id = s.Id, State = StepStates.Pending, ClearError = true, ClearCompensation = true }));

        // An undo that failed leaves the effect in place: the step stays done, and is undone again if the run fails again.
        change.Steps.AddRange(steps.Where(s => s.CompensationState == StepStates.Failed)
            .Select(s => new StepChange { Id = s.Id, ClearCompensation = true }));
        var result = await runs.CommitAsync(runId, RunWriter.Unleased(RunStates.Failed, RunStates.TimedOut, RunStates.Cancelled), change, options.Value.Lease);
        if (result is null)
        {
            return TypedResults.Problem("The run changed meanwhile; read it and try again.", statusCode: StatusCodes.Status409Conflict, title: "Run changed");
        }

        await operations.PublishKeyAsync(key, run);
        await signals.EventsCommittedAsync(runId, result.LastSeq);
        await signals.WakeWorkersAsync();
        return TypedResults.Accepted($"/v1/runs/{runId}", RunDto.From((await runs.FindAsync(tenantId, runId))!, await runs.StepsAsync(runId)));
    }

    public static Task<IResult> ApproveStep(Guid runId, string stepId, Decision? decision, HttpContext context, RunStore runs, RunSignals signals, IOptions<RunOptions> options) =>
        DecideAsync(runId, stepId, approve: true, decision?.Reason, context, runs, signals, options.Value);

    public static Task<IResult> DenyStep(Guid runId, string stepId, Decision? decision, HttpContext context, RunStore runs, RunSignals signals, IOptions<RunOptions> options) =>
        DecideAsync(runId, stepId, approve: false, decision?.Reason, context, runs, signals, options.Value);

    /// <summary>
    /// Decides an approval the run asked for here (an approval step, or a tool the agent wants approved first). A tool
    /// call parked by the tool service's own policy is decided there, under <c>/v1/approvals</c>. Four eyes: the key
    /// that started the run (or the run's own key) never decides what the run asks.
    /// </summary>
    private static async Task<IResult> DecideAsync(Guid runId, string stepId, bool approve, string? reason, HttpContext context, RunStore runs, RunSignals signals, RunOptions options)
    {
        if (reason is { Length: > 2000 })
        {
            return ValidationProblems.For("reason", "At most 2,000 characters.");
        }

        var tenantId = context.User.TenantId();
        if (await runs.FindAsync(tenantId, runId) is not { } run || (await runs.StepsAsync(runId)).FirstOrDefault(s => s.Id == stepId) is not { } step)
        {
            return TypedResults.NotFound();
        }

        if (step.State != StepStates.WaitingApproval)
        {
            return TypedResults.Problem($"Step '{stepId}' is not waiting for approval (it is {step.State}).", statusCode: StatusCodes.Status409Conflict, title: "Nothing to decide");
        }

        if (step.InvocationId is { } invocationId)
        {
            return TypedResults.Problem($"This tool call waits for the tool service's approval: decide it at /v1/approvals (invocation {invocationId}).",
                statusCode: StatusCodes.Status409Conflict, title: "Decided in the tool service");
        }

        var decider = context.User.KeyId();
        if (decider == run.CreatedBy || decider == run.RunKeyId.ToString())
        {
            return TypedResults.Problem("The key that started this run cannot decide its approvals; another person's key with the approve (or admin) scope must.",
                statusCode: StatusCodes.Status403Forbidden, title: "Self-approval");
        }

        var change = new RunChange
        {
            State = approve ? RunStates.Running : null,
            WakeAt = DateTime.UtcNow,
            Events = { new(approve ? RunEventTypes.StepApproved : RunEventTypes.StepDenied, stepId, new JsonObject { ["by"] = decider, ["reason"] = reason }) },
        };
        change.Steps.Add(approve
            ? new StepChange
            {
                Id = stepId,
                State = step.Kind == StepKinds.Approval ? StepStates.Succeeded : StepStates.Approved,
                Output = step.Kind == StepKinds.Approval ? new JsonObject { ["approved"] = true, ["by"] = decider, ["reason"] = reason } : null,
                Finished = step.Kind == StepKinds.Approval,
            }
            : new StepChange { Id = stepId, State = StepStates.Failed, Error = $"Denied by {decider}: {reason ?? "no reason given"}", Finished = true });

        // A run still working on other steps is held by its replica, which parks it once they are done.
        var result = await runs.CommitAsync(runId, RunWriter.Unleased(RunStates.WaitingApproval, RunStates.Running), change, options.Lease);
        if (result is null)
        {
            context.Response.Headers.RetryAfter = "1";
            return TypedResults.Problem("The run is busy with other steps; the decision can be made in a moment.", statusCode: StatusCodes.Status409Conflict, title: "Run busy");
        }

        await signals.EventsCommittedAsync(runId, result.LastSeq);
        await signals.WakeWorkersAsync();
        return TypedResults.Ok(RunDto.From((await runs.FindAsync(tenantId, runId))!, await runs.StepsAsync(runId)));
    }

    private static Dictionary<string, string[]> Validate(CreateRunRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Agent) || request.Agent.Length > 64)
        {
            errors["agent"] = ["The agent's name, 1 to 64 characters."];
        }

        if (request.AgentVersion is < 1)
        {
            errors["agentVersion"] = ["A version number, 1 or more."];
        }

        if (string.IsNullOrWhiteSpace(request.Goal) || request.Goal.Length > MaxGoalLength)
        {
            errors["goal"] = [$"What the run is to achieve, 1 to {MaxGoalLength:N0} characters."];
        }

        if (request.Input is { } input && input.ToJsonString().Length > MaxInputBytes)
        {
            errors["input"] = [$"At most {MaxInputBytes / 1024} KB of JSON."];
        }

        if (request.Metadata is { } metadata && (metadata is not JsonObject || metadata.ToJsonString().Length > MaxMetadataBytes))
        {
            errors["metadata"] = [$"A JSON object of at most {MaxMetadataBytes / 1024} KB."];
        }

        if (request.WebhookUrl is { } url && HttpUrl.Problem(url) is { } urlProblem)
        {
            errors["webhookUrl"] = [urlProblem];
        }

        return errors;
    }

    private static DateTime? Utc(DateTime? value) => value?.ToUniversalTime();
}

public sealed record CreateRunRequest(string? Agent, int? AgentVersion, string? Goal, JsonNode? Input, JsonNode? Metadata, string? WebhookUrl);

public sealed record Decision(string? Reason);
