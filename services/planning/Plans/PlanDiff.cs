using System.Text.Json;
using Platform.ServiceDefaults.Json;

namespace Platform.Planning.Plans;

/// <summary>What changed between two revisions, by step id; estimates follow from the content and are not compared.</summary>
public static class PlanDiff
{
    public static PlanChanges Between(IReadOnlyList<PlanStep> before, IReadOnlyList<PlanStep> after)
    {
        var old = before.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var now = after.Select(s => s.Id).ToHashSet(StringComparer.Ordinal);
        return new PlanChanges(
            [.. after.Where(s => !old.ContainsKey(s.Id)).Select(s => s.Id)],
            [.. before.Where(s => !now.Contains(s.Id)).Select(s => s.Id)],
            [.. after.Where(s => old.TryGetValue(s.Id, out var was) && !SameContent(was, s)).Select(s => s.Id)]);
    }

    public static bool SameContent(PlanStep a, PlanStep b) => Content(a) == Content(b);

    private static string Content(PlanStep step) =>
        CanonicalJson.Write(JsonSerializer.SerializeToNode(step with { Estimates = null, DependsOn = [.. step.DependsOn.Order(StringComparer.Ordinal)] }, JsonSerializerOptions.Web));
}
