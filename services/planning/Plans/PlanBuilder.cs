using System.Globalization;
using Platform.Planning.Planner;

namespace Platform.Planning.Plans;

/// <summary>What a plan is built against: its constraints, the tools it may call, the alias's prices, the steps that ran.</summary>
public sealed record PlanInputs(
    int MaxSteps,
    decimal? BudgetUsd,
    DateTimeOffset? Deadline,
    IReadOnlyDictionary<string, ToolInfo> Tools,
    ModelPrices Prices,
    IReadOnlyDictionary<string, PlanStep> Completed);

/// <summary>A valid plan: steps with estimates, parallel layers, the critical path and totals.</summary>
public sealed record BuiltPlan(PlanStep[] Steps, string[][] Layers, string[] CriticalPath, PlanTotals Totals, string[] Repairs);

/// <summary>
/// Turns steps into a plan or the reasons it is none: validation, then estimates, then the constraints that depend
/// on them: the estimated cost within <c>budgetUsd</c>, and the work still to do finishing before <c>deadline</c>.
/// </summary>
public sealed class PlanBuilder(PlanValidator validator, TimeProvider time)
{
    public async Task<(BuiltPlan? Plan, ErrorList Errors)> BuildAsync(IReadOnlyList<StepInput?>? input, PlanInputs inputs, bool repair)
    {
        var check = await validator.CheckAsync(input, new StepRules(inputs.MaxSteps, inputs.Tools, inputs.Completed, repair));
        if (check.Errors.Count > 0 || check.Graph is not { } graph)
        {
            return (null, check.Errors);
        }

        // Completed steps keep the estimates they had: they stay exactly as they were.
        var steps = check.Steps
            .Select(s => inputs.Completed.ContainsKey(s.Id) ? s : s with { Estimates = PlanEstimator.Estimate(s, inputs.Tools, inputs.Prices) })
            .ToArray();
        var byId = steps.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var (criticalPath, duration) = graph.CriticalPath(id => byId[id].Estimates?.DurationMs ?? 0);
        var totals = new PlanTotals(steps.Sum(s => s.Estimates?.Tokens ?? 0), steps.Sum(s => s.Estimates?.Usd ?? 0), duration);

        var errors = check.Errors;
        if (inputs.BudgetUsd is { } budget && totals.Usd > budget)
        {
            var costliest = steps.Where(s => s.Estimates?.Usd > 0).OrderByDescending(s => s.Estimates!.Usd).Take(3).Select(s => $"{s.Id} ${Usd(s.Estimates!.Usd)}");
            errors.Add("constraints.budgetUsd", $"The plan's estimated cost, ${Usd(totals.Usd)}, is over the budget of ${Usd(budget)} (costliest steps: {string.Join(", ", costliest)}).");
        }

        if (inputs.Deadline is { } deadline)
        {
            var (_, remaining) = graph.CriticalPath(id => inputs.Completed.ContainsKey(id) ? 0 : byId[id].Estimates?.DurationMs ?? 0);
            var finish = time.GetUtcNow().AddMilliseconds(remaining);
            if (finish > deadline)
            {
                errors.Add("constraints.deadline", $"The plan's critical path needs an estimated {remaining / 1000.0:0.#} s, so it would end at {finish:O}, after the deadline {deadline:O}.");
            }
        }

        return errors.Count > 0 ? (null, errors) : (new BuiltPlan(steps, graph.Layers(), criticalPath, totals, [.. check.Repairs]), errors);
    }

    private static string Usd(decimal value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
