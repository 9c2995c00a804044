using System.Text.Json.Nodes;
using Platform.Planning.Plans;

namespace Platform.Planning.Planner;

/// <summary>The checks of a planning request's own fields, each problem recorded under the field's name.</summary>
public static class RequestChecks
{
    public static void CheckPlanner(ErrorList errors, string planner, IReadOnlyList<StepInput?>? steps)
    {
        if (planner is not ("llm" or "manual"))
        {
            errors.Add("planner", "The planner is 'llm' (the default) or 'manual' (with steps).");
        }
        else if (planner == "llm" && steps is not null)
        {
            errors.Add("steps", "Steps are given with the manual planner only; the LLM planner writes its own.");
        }
    }

    public static ConstraintsDto Constraints(ErrorList errors, PlanConstraints? constraints, DateTimeOffset now)
    {
        var maxSteps = constraints?.MaxSteps ?? PlanningService.DefaultMaxSteps;
        if (maxSteps is < 1 or > PlanningService.MaxStepsLimit)
        {
            errors.Add("constraints.maxSteps", $"From 1 to {PlanningService.MaxStepsLimit} steps.");
        }

        if (constraints?.BudgetUsd is <= 0 or > 1_000_000)
        {
            errors.Add("constraints.budgetUsd", "A budget in USD, more than 0 and at most 1,000,000.");
        }

        if (constraints?.Deadline is { } deadline && deadline <= now)
        {
            errors.Add("constraints.deadline", $"The deadline {deadline:O} has passed.");
        }

        return new ConstraintsDto(maxSteps, constraints?.BudgetUsd, constraints?.Deadline);
    }

    public static string[]? ToolNames(ErrorList errors, IReadOnlyList<string?>? tools)
    {
        if (tools is null)
        {
            return null;
        }

        if (tools.Count > 1000)
        {
            errors.Add("tools", "At most 1000 tool names.");
            return null;
        }

        for (var i = 0; i < tools.Count; i++)
        {
            if (string.IsNullOrEmpty(tools[i]) || tools[i]!.Length > 200)
            {
                errors.Add($"tools[{i}]", "A tool name, at most 200 characters.");
            }
        }

        return [.. tools.OfType<string>().Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Every step completed so far: those recorded with the latest revision, and those reported now.</summary>
    public static Dictionary<string, CompletedStep> Completed(ErrorList errors, PlanDto latest, IReadOnlyList<CompletedStep?>? reported)
    {
        var steps = latest.Steps.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var completed = latest.Completed.Where(c => c.StepId is not null).ToDictionary(c => c.StepId!, StringComparer.Ordinal);
        var now = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < (reported?.Count ?? 0); i++)
        {
            var path = $"completed[{i}]";
            var step = reported![i];
            if (step?.StepId is not { } id || !steps.ContainsKey(id))
            {
                errors.Add($"{path}.stepId", $"No step '{ErrorList.Quote(step?.StepId)}' in revision {latest.Revision}.");
            }
            else if (!now.TryAdd(id, i))
            {
                errors.Add($"{path}.stepId", $"Step '{id}' is reported twice.");
            }
            else if ((step.Output?.ToJsonString().Length ?? 0) > PlanningService.MaxOutputChars)
            {
                errors.Add($"{path}.output", $"At most {PlanningService.MaxOutputChars} characters of JSON.");
            }
            else if (completed.TryGetValue(id, out var earlier))
            {
                if (!JsonNode.DeepEquals(earlier.Output, step.Output))
                {
                    errors.Add($"{path}.output", $"Step '{id}' was reported completed before, with another output.");
                }
            }
            else
            {
                completed[id] = new CompletedStep(id, step.Output?.DeepClone());
            }
        }

        foreach (var (id, i) in now.Where(n => completed.ContainsKey(n.Key)))
        {
            foreach (var dependency in steps[id].DependsOn.Where(d => !completed.ContainsKey(d)))
            {
                errors.Add($"completed[{i}].stepId", $"Step '{id}' depends on '{dependency}', which has not completed.");
            }
        }

        return completed;
    }

    public static FailedStep? Failed(ErrorList errors, PlanDto latest, FailedStep? failed, Dictionary<string, CompletedStep> completed)
    {
        if (failed is null)
        {
            errors.Add("failed", "Say which step failed and what was observed: {stepId, observation}.");
            return null;
        }

        var step = latest.Steps.FirstOrDefault(s => s.Id == failed.StepId);
        if (step is null)
        {
            errors.Add("failed.stepId", $"No step '{ErrorList.Quote(failed.StepId)}' in revision {latest.Revision}.");
        }
        else if (completed.ContainsKey(step.Id))
        {
            errors.Add("failed.stepId", $"Step '{step.Id}' has completed; it cannot also have failed.");
        }
        else if (step.DependsOn.FirstOrDefault(d => !completed.ContainsKey(d)) is { } pending)
        {
            errors.Add("failed.stepId", $"Step '{step.Id}' depends on '{pending}', which has not completed, so it cannot have run.");
        }

        CheckText(errors, "failed.observation", failed.Observation, PlanningService.MaxObservation, required: true);
        return new FailedStep(failed.StepId, failed.Observation?.Trim());
    }

    public static void CheckText(ErrorList errors, string field, string? text, int max, bool required)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (required)
            {
                errors.Add(field, $"Required: at most {max} characters.");
            }
        }
        else if (text.Length > max)
        {
            errors.Add(field, $"At most {max} characters (got {text.Length}).");
        }
        else if (StepReader.Unclean(text, multiline: true) is { } problem)
        {
            errors.Add(field, $"The text {problem}.");
        }
    }
}
