using Platform.Planning.Planner;

namespace Platform.Planning.Plans;

/// <summary>What a plan's steps are held to, whoever wrote them.</summary>
/// <param name="Tools">The tools the plan may call: those the tenant can see, narrowed to the request's list.</param>
/// <param name="Completed">Steps that have run: they stay exactly as they were.</param>
/// <param name="Repair">
/// Planner output only: fix what has one safe reading (a missing dependency on a step whose output the arguments use;
/// a completed step copied wrongly) rather than refuse it. A caller's own plan is never rewritten.
/// </param>
public sealed record StepRules(int MaxSteps, IReadOnlyDictionary<string, ToolInfo> Tools, IReadOnlyDictionary<string, PlanStep> Completed, bool Repair);

/// <summary>The steps, valid when <c>Errors</c> is empty, with their graph and what was repaired.</summary>
public sealed record CheckedSteps(IReadOnlyList<PlanStep> Steps, PlanGraph? Graph, ErrorList Errors, IReadOnlyList<string> Repairs);

/// <summary>
/// Checks a plan's steps as an executable DAG: unique ids, known dependencies, no cycles, the step cap, tools the
/// plan may use with literal arguments valid for their schemas, and references only to outputs of steps that run
/// earlier. Every problem names the step's field and the rule.
/// </summary>
public sealed class PlanValidator(ArgumentSchemas schemas)
{
    public async Task<CheckedSteps> CheckAsync(IReadOnlyList<StepInput?>? input, StepRules rules)
    {
        var errors = new ErrorList();
        var repairs = new List<string>();
        if (input is not { Count: > 0 })
        {
            errors.Add("steps", $"A plan has 1 to {rules.MaxSteps} steps.");
            return new CheckedSteps([], null, errors, repairs);
        }

        if (input.Count > rules.MaxSteps)
        {
            errors.Add("steps", $"The plan has {input.Count} steps; at most {rules.MaxSteps} are allowed (constraints.maxSteps).");
            return new CheckedSteps([], null, errors, repairs);
        }

        var steps = new List<PlanStep>();
        for (var i = 0; i < input.Count; i++)
        {
            var path = $"steps[{i}]";
            if (input[i]?.Id is { } id && rules.Completed.TryGetValue(id, out var completed))
            {
                steps.Add(KeepCompleted(input[i], completed, path, rules, errors, repairs));
                continue;
            }

            steps.Add(StepReader.Read(input[i], path, rules.MaxSteps, rules.Tools, errors));
        }

        foreach (var missing in rules.Completed.Values.Where(c => steps.All(s => s.Id != c.Id)).Reverse())
        {
            if (rules.Repair)
            {
                steps.Insert(0, missing);
                repairs.Add($"steps: put back completed step '{missing.Id}', which the planner left out");
            }
            else
            {
                errors.Add("steps", $"Completed step '{missing.Id}' stays in the plan, exactly as it was.");
            }
        }

        var graph = Graph(steps, errors);
        if (graph is not null)
        {
            CheckReferences(steps, graph, rules, errors, repairs);
            await CheckArgumentsAsync(steps, rules, errors);
        }

        return new CheckedSteps(steps, graph, errors, repairs);
    }

    private static PlanStep KeepCompleted(StepInput? input, PlanStep completed, string path, StepRules rules, ErrorList errors, List<string> repairs)
    {
        if (input is not null && PlanDiff.SameContent(StepReader.Normalize(input), completed))
        {
            return completed;
        }

        if (rules.Repair)
        {
            repairs.Add($"{path}: restored completed step '{completed.Id}' as it was");
        }
        else
        {
            errors.Add(path, $"Step '{completed.Id}' has run: it stays exactly as it was in the previous revision.");
        }

        return completed;
    }

    /// <summary>The dependency graph, when every id is valid and unique and every dependency known; null otherwise.</summary>
    private static PlanGraph? Graph(List<PlanStep> steps, ErrorList errors)
    {
        var positions = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            if (steps[i].Id.Length > 0 && !positions.TryAdd(steps[i].Id, i))
            {
                errors.Add($"steps[{i}].id", $"Step id '{steps[i].Id}' is used twice (first by steps[{positions[steps[i].Id]}]).");
            }
        }

        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var dependency in steps[i].DependsOn)
            {
                if (dependency == steps[i].Id)
                {
                    errors.Add($"steps[{i}].dependsOn", "A step cannot depend on itself.");
                }
                else if (!positions.ContainsKey(dependency))
                {
                    errors.Add($"steps[{i}].dependsOn", $"No step '{ErrorList.Quote(dependency)}' in this plan.");
                }
            }
        }

        if (steps.Any(s => s.Id.Length == 0) || steps.Count != positions.Count
            || steps.Any(s => s.DependsOn.Any(d => d == s.Id || !positions.ContainsKey(d))))
        {
            return null;
        }

        var graph = PlanGraph.Of(steps);
        if (graph.FindCycle() is { } cycle)
        {
            errors.Add($"steps[{positions[cycle[0]]}].dependsOn", $"The dependencies form a cycle: {string.Join(" → ", cycle)}.");
            return null;
        }

        return graph;
    }

    /// <summary>Each <c>{{steps.x.output}}</c> names a step that finishes before this one: one of its ancestors.</summary>
    private static void CheckReferences(List<PlanStep> steps, PlanGraph graph, StepRules rules, ErrorList errors, List<string> repairs)
    {
        var ids = steps.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (rules.Completed.ContainsKey(step.Id))
            {
                continue;
            }

            var texts = StepTemplates.Strings(step.Arguments).Select(s => (Field: "arguments", Text: s.Value)).Append((Field: "instruction", Text: step.Instruction));
            foreach (var (field, text) in texts)
            {
                foreach (var reference in StepTemplates.References(text))
                {
                    var path = $"steps[{i}].{field}";
                    if (reference is null)
                    {
                        errors.Add(path, "A reference to an earlier output is written {{steps.<id>.output}} or {{steps.<id>.output.<field>}}.");
                    }
                    else if (reference == step.Id)
                    {
                        errors.Add(path, "A step cannot use its own output.");
                    }
                    else if (!ids.Contains(reference))
                    {
                        errors.Add(path, $"Uses the output of step '{reference}', which is not in this plan.");
                    }
                    else if (!graph.IsAncestor(reference, step.Id))
                    {
                        if (rules.Repair && !graph.IsAncestor(step.Id, reference))
                        {
                            graph.AddDependency(step.Id, reference);
                            steps[i] = step = step with { DependsOn = [.. step.DependsOn, reference] };
                            repairs.Add($"steps[{i}].dependsOn: added '{reference}', whose output the step uses");
                        }
                        else
                        {
                            errors.Add(path, $"Uses the output of step '{reference}', which does not run before it: add '{reference}' to dependsOn.");
                        }
                    }
                }
            }
        }
    }

    /// <summary>Literal arguments fit the tool's schema; references are checked when the step runs and its inputs exist.</summary>
    private async Task CheckArgumentsAsync(List<PlanStep> steps, StepRules rules, ErrorList errors)
    {
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step.Kind != "tool" || step.Tool is null || !rules.Tools.TryGetValue(step.Tool, out var tool) || rules.Completed.ContainsKey(step.Id))
            {
                continue;
            }

            var references = StepTemplates.Strings(step.Arguments).Where(s => StepTemplates.HasReference(s.Value)).Select(s => s.Pointer).ToList();
            var problems = await schemas.ValidateAsync(tool.Parameters, step.Arguments, references);
            if (problems.Count > 0)
            {
                errors.Add($"steps[{i}].arguments", $"Does not fit the parameters of {tool.Name}: {string.Join("; ", problems.Take(10))}.");
            }
        }
    }
}
