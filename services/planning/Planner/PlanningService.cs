using System.Security.Claims;
using System.Text.RegularExpressions;
using Platform.Planning.Plans;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Planning.Planner;

/// <summary>
/// Makes plans and revisions: checks the request, gathers the tools the plan may call and the alias's prices (with
/// the caller's key), has the steps written (by the caller, or by the LLM planner), builds and stores the result. A
/// plan is stored only whole and valid.
/// </summary>
public sealed partial class PlanningService(ToolDirectory directory, ModelGateway gateway, PlanBuilder builder, LlmPlanner llm, PlanStore store, TimeProvider time)
{
    public const string DefaultModel = "simulator";
    public const int DefaultMaxSteps = 20;
    public const int MaxStepsLimit = 200;
    public const int MaxGoal = 4000;
    public const int MaxContext = 16_000;
    public const int MaxObservation = 4000;
    public const int MaxOutputChars = 64 * 1024;

    /// <summary>More tool definitions than this make a prompt too large to be useful: the caller names the ones to offer.</summary>
    public const int MaxOfferedTools = 128;

    /// <summary>
    /// Makes and stores a plan; with an <paramref name="idempotencyKey"/> the tenant used before, answers the plan it
    /// made (<c>Created</c> false) and stores nothing. The key goes with each of the planner's gateway calls, so such a
    /// repeat, or one after a crash, gets the answers already paid for; a repeat is rare, so the key is not looked up
    /// before planning, only when storing finds it taken.
    /// </summary>
    public async Task<(PlanDto Plan, bool Created)> CreateAsync(
        ClaimsPrincipal user, CreatePlanRequest request, string? idempotencyKey, GatewayClock clock, CancellationToken cancellationToken)
    {
        var errors = new ErrorList();
        var planner = request.Planner ?? (request.Steps is null ? "llm" : "manual");
        RequestChecks.CheckText(errors, "goal", request.Goal, MaxGoal, required: true);
        RequestChecks.CheckText(errors, "context", request.Context, MaxContext, required: false);
        RequestChecks.CheckPlanner(errors, planner, request.Steps);
        var model = request.Model ?? DefaultModel;
        if (!AliasPattern().IsMatch(model) || model.Split('/').Any(s => s is "." or ".."))
        {
            errors.Add("model", "A model alias of the gateway: 1 to 100 letters, digits, '.', '-', '_', ':' or '/'.");
        }

        var constraints = RequestChecks.Constraints(errors, request.Constraints, time.GetUtcNow());
        var toolNames = RequestChecks.ToolNames(errors, request.Tools);
        if (errors.Count > 0)
        {
            throw PlanningProblem.Invalid(errors.ToDictionary());
        }

        var tenantId = user.TenantId();
        var tools = await ToolsAsync(user, toolNames, planner, request.Steps, cancellationToken);
        var prices = await gateway.PricesAsync(tenantId, model, cancellationToken);
        var inputs = new PlanInputs(constraints.MaxSteps, constraints.BudgetUsd, constraints.Deadline, tools, prices, new Dictionary<string, PlanStep>());
        var job = new PlanningJob(request.Goal!.Trim(), NullIfBlank(request.Context), model, constraints.MaxSteps, constraints.BudgetUsd, constraints.Deadline,
            tools, null, [], null, idempotencyKey);
        var (plan, info) = await WriteStepsAsync(user, planner, request.Steps, job, inputs, clock, cancellationToken);
        var stored = await store.CreateAsync(tenantId, new NewPlan(job.Goal, job.Context, model, toolNames, constraints),
            new NewRevision(plan.Steps, plan.Layers, plan.CriticalPath, plan.Totals, info, [], null, null), idempotencyKey, cancellationToken);
        return stored.Created || stored.Plan.Goal == job.Goal ? stored : throw KeyReused(idempotencyKey!, stored.Plan.Id);
    }

    /// <summary>Adds a revision; an <paramref name="idempotencyKey"/> used before answers the revision it made, as for plans.</summary>
    public async Task<(PlanDto Plan, bool Created)> ReviseAsync(
        ClaimsPrincipal user, Guid planId, ReviseRequest request, string? idempotencyKey, GatewayClock clock, CancellationToken cancellationToken)
    {
        var tenantId = user.TenantId();
        if (idempotencyKey is not null && await store.FindRevisionByKeyAsync(tenantId, idempotencyKey, cancellationToken) is { } made)
        {
            return made.Id == planId ? (made, false) : throw KeyReused(idempotencyKey, made.Id);
        }

        var latest = await store.FindAsync(tenantId, planId, cancellationToken) ?? throw PlanningProblem.NotFound();
        if (request.Revision is { } seen && seen != latest.Revision)
        {
            throw Conflict(latest.Revision);
        }

        var errors = new ErrorList();
        var planner = request.Planner ?? (request.Steps is null ? "llm" : "manual");
        RequestChecks.CheckPlanner(errors, planner, request.Steps);
        var completed = RequestChecks.Completed(errors, latest, request.Completed);
        var failed = RequestChecks.Failed(errors, latest, request.Failed, completed);
        if (errors.Count > 0)
        {
            throw PlanningProblem.Invalid(errors.ToDictionary());
        }

        if (latest.Constraints.Deadline is { } deadline && deadline <= time.GetUtcNow())
        {
            throw new PlanningProblem(StatusCodes.Status422UnprocessableEntity, "Deadline passed", $"The plan's deadline, {deadline:O}, has passed: no revision can meet it.")
            {
                Field = "constraints.deadline",
            };
        }

        var tools = await ToolsAsync(user, latest.Tools, planner, request.Steps, cancellationToken);
        var prices = await gateway.PricesAsync(tenantId, latest.Model, cancellationToken);
        var done = latest.Steps.Where(s => completed.ContainsKey(s.Id)).ToDictionary(s => s.Id, StringComparer.Ordinal);
        var inputs = new PlanInputs(latest.Constraints.MaxSteps, latest.Constraints.BudgetUsd, latest.Constraints.Deadline, tools, prices, done);
        var job = new PlanningJob(latest.Goal, latest.Context, latest.Model, latest.Constraints.MaxSteps, latest.Constraints.BudgetUsd, latest.Constraints.Deadline,
            tools, latest.Steps, [.. completed.Values], failed, idempotencyKey);
        var (plan, info) = await WriteStepsAsync(user, planner, request.Steps, job, inputs, clock, cancellationToken);
        var revision = new NewRevision(plan.Steps, plan.Layers, plan.CriticalPath, plan.Totals, info, [.. completed.Values], failed,
            PlanDiff.Between(latest.Steps, plan.Steps));
        return await store.AddRevisionAsync(tenantId, latest, revision, idempotencyKey, cancellationToken) ?? throw Conflict(latest.Revision + 1);
    }

    private static PlanningProblem KeyReused(string idempotencyKey, Guid planId) =>
        new(StatusCodes.Status409Conflict, "Idempotency key reused", $"Idempotency key '{idempotencyKey}' was used for another request (plan {planId}).");

    private async Task<(BuiltPlan Plan, PlannerInfo Info)> WriteStepsAsync(
        ClaimsPrincipal user, string planner, IReadOnlyList<StepInput?>? steps, PlanningJob job, PlanInputs inputs, GatewayClock clock, CancellationToken cancellationToken)
    {
        if (planner == "manual")
        {
            var (plan, errors) = await builder.BuildAsync(steps, inputs, repair: false);
            return plan is null ? throw PlanningProblem.Invalid(errors.ToDictionary()) : (plan, new PlannerInfo("manual", null, 0, null, null, null));
        }

        if (!user.HasScope(Scopes.Models))
        {
            throw new PlanningProblem(StatusCodes.Status403Forbidden, "Forbidden",
                "The LLM planner calls the model gateway with this API key, which needs the `models` scope: add the scope to the key, or write the steps yourself (planner `manual`).")
            {
                Field = "planner",
            };
        }

        return await llm.PlanAsync(job, inputs, clock, cancellationToken);
    }

    /// <summary>
    /// The tools the plan may call: every tool the tenant can see, or the ones named. The tool service is asked only
    /// when a step could call one: the LLM planner always may, a caller's steps when one is a tool step.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, ToolInfo>> ToolsAsync(
        ClaimsPrincipal user, string[]? names, string planner, IReadOnlyList<StepInput?>? steps, CancellationToken cancellationToken)
    {
        var needed = names is not { Length: 0 } && (planner == "llm" || (steps ?? []).Any(s => s?.Kind == "tool" || !string.IsNullOrEmpty(s?.Tool)));
        if (!needed)
        {
            return new Dictionary<string, ToolInfo>();
        }

        if (!user.HasScope(Scopes.Tools))
        {
            throw ToolDirectory.NeedsToolsScope();
        }

        var visible = await directory.ListAsync(cancellationToken);
        if (names is null)
        {
            return planner == "llm" && visible.Count > MaxOfferedTools
                ? throw PlanningProblem.Invalid("tools", $"The tenant has {visible.Count} tools; name at most {MaxOfferedTools} of them in tools for the LLM planner.")
                : visible;
        }

        var errors = new ErrorList();
        for (var i = 0; i < names.Length; i++)
        {
            if (!visible.ContainsKey(names[i]))
            {
                errors.Add($"tools[{i}]", $"No tool '{ErrorList.Quote(names[i])}' is visible to this tenant.");
            }
        }

        return errors.Count > 0 ? throw PlanningProblem.Invalid(errors.ToDictionary()) : names.ToDictionary(n => n, n => visible[n], StringComparer.Ordinal);
    }

    private static string? NullIfBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();

    private static PlanningProblem Conflict(int revision) => new(StatusCodes.Status409Conflict, "Conflict",
        $"The plan has been revised meanwhile: it is at revision {revision}. Read it and re-plan from there.")
    {
        Field = "revision",
    };

    [GeneratedRegex("^[A-Za-z0-9._:/-]{1,100}$")]
    private static partial Regex AliasPattern();
}
