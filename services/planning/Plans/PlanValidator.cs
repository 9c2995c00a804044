using System.Text.RegularExpressions;

namespace Platform.Planning.Plans;

/// <summary>
/// Checks that a plan is an executable DAG (unique step ids, known dependencies, no cycles) and orders it into layers:
/// every step of a layer depends only on earlier layers, so a layer's steps can run in parallel.
/// </summary>
public static partial class PlanValidator
{
    public const int MaxSteps = 200;
    public const int MaxGoalLength = 4000;
    public static readonly string[] StepKinds = ["model", "tool", "approval"];

    public static (IReadOnlyList<IReadOnlyList<string>>? Layers, Dictionary<string, string[]> Errors) Validate(PlanRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Goal) || request.Goal.Length > MaxGoalLength)
        {
            errors["goal"] = [$"A goal is required (at most {MaxGoalLength} characters)."];
        }

        if (request.Steps is not { Count: > 0 and <= MaxSteps } steps)
        {
            errors["steps"] = [$"A plan has 1 to {MaxSteps} steps."];
            return (null, errors);
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            if (step?.Id is null || !StepIdPattern().IsMatch(step.Id))
            {
                errors[$"steps[{i}].id"] = ["A step id is 1 to 64 letters, digits, '-' or '_'."];
            }
            else if (!ids.Add(step.Id))
            {
                errors[$"steps[{i}].id"] = [$"Step id '{step.Id}' is used twice."];
            }

            if (string.IsNullOrWhiteSpace(step?.Title))
            {
                errors[$"steps[{i}].title"] = ["A step needs a title."];
            }

            if (step?.Kind is null || !StepKinds.Contains(step.Kind))
            {
                errors[$"steps[{i}].kind"] = [$"The kind is one of: {string.Join(", ", StepKinds)}."];
            }
        }

        for (var i = 0; i < steps.Count; i++)
        {
            foreach (var dependency in steps[i]?.DependsOn ?? [])
            {
                if (dependency == steps[i]!.Id)
                {
                    errors[$"steps[{i}].dependsOn"] = ["A step cannot depend on itself."];
                }
                else if (!ids.Contains(dependency))
                {
                    errors[$"steps[{i}].dependsOn"] = [$"Unknown step '{dependency}'."];
                }
            }
        }

        if (errors.Count > 0)
        {
            return (null, errors);
        }

        var layers = Layer(steps!);
        if (layers is null)
        {
            errors["steps"] = ["The dependencies form a cycle; a plan must be acyclic."];
        }

        return (layers, errors);
    }

    /// <summary>Kahn's algorithm, one layer at a time; null when a cycle leaves steps unplaced.</summary>
    private static List<IReadOnlyList<string>>? Layer(IReadOnlyList<PlanStep> steps)
    {
        var remaining = steps.ToDictionary(s => s.Id!, s => new HashSet<string>(s.DependsOn ?? [], StringComparer.Ordinal), StringComparer.Ordinal);
        var layers = new List<IReadOnlyList<string>>();
        while (remaining.Count > 0)
        {
            var ready = steps.Select(s => s.Id!).Where(id => remaining.TryGetValue(id, out var deps) && deps.Count == 0).ToList();
            if (ready.Count == 0)
            {
                return null;
            }

            foreach (var id in ready)
            {
                remaining.Remove(id);
            }

            foreach (var deps in remaining.Values)
            {
                deps.ExceptWith(ready);
            }

            layers.Add(ready);
        }

        return layers;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex StepIdPattern();
}
