namespace Platform.Planning.Plans;

/// <summary>
/// The DAG of a plan's steps, given as ids and their dependencies (every dependency a known id): cycles, ancestors,
/// parallel layers and the critical path. A plan has at most a few hundred steps, so plain searches are enough.
/// </summary>
public sealed class PlanGraph
{
    private readonly IReadOnlyList<string> _ids;
    private readonly Dictionary<string, List<string>> _dependsOn;
    private readonly Dictionary<string, int> _position;

    public PlanGraph(IEnumerable<(string Id, IEnumerable<string> DependsOn)> steps)
    {
        var list = steps.ToList();
        _ids = list.Select(s => s.Id).ToList();
        _position = _ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        _dependsOn = list.ToDictionary(s => s.Id, s => s.DependsOn.Distinct(StringComparer.Ordinal).ToList(), StringComparer.Ordinal);
    }

    public static PlanGraph Of(IEnumerable<PlanStep> steps) => new(steps.Select(s => (s.Id, (IEnumerable<string>)s.DependsOn)));

    public void AddDependency(string id, string dependency) => _dependsOn[id].Add(dependency);

    /// <summary>One cycle as the ids along it (first id repeated at the end), or null when the graph is acyclic.</summary>
    public IReadOnlyList<string>? FindCycle()
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var id in _ids)
        {
            if (Visit(id) is { } cycle)
            {
                return cycle;
            }
        }

        return null;

        // 1: on the current path; 2: finished.
        List<string>? Visit(string id)
        {
            if (state.GetValueOrDefault(id) == 2)
            {
                return null;
            }

            if (state.GetValueOrDefault(id) == 1)
            {
                return [.. path[path.IndexOf(id)..], id];
            }

            state[id] = 1;
            path.Add(id);
            foreach (var dependency in _dependsOn[id])
            {
                if (Visit(dependency) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }
    }

    /// <summary>Whether <paramref name="ancestor"/> must finish before <paramref name="id"/>, through dependsOn.</summary>
    public bool IsAncestor(string ancestor, string id)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>(_dependsOn[id]);
        while (pending.TryPop(out var next))
        {
            if (next == ancestor)
            {
                return true;
            }

            if (seen.Add(next))
            {
                foreach (var dependency in _dependsOn[next])
                {
                    pending.Push(dependency);
                }
            }
        }

        return false;
    }

    /// <summary>Kahn's algorithm one layer at a time, each layer in step order: a layer's steps can run in parallel.</summary>
    public string[][] Layers()
    {
        var remaining = _dependsOn.ToDictionary(p => p.Key, p => new HashSet<string>(p.Value, StringComparer.Ordinal), StringComparer.Ordinal);
        var layers = new List<string[]>();
        while (remaining.Count > 0)
        {
            var ready = _ids.Where(id => remaining.TryGetValue(id, out var deps) && deps.Count == 0).ToArray();
            if (ready.Length == 0)
            {
                throw new InvalidOperationException("The plan has a cycle; check FindCycle first.");
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

        return [.. layers];
    }

    /// <summary>
    /// The longest chain of dependent steps by <paramref name="duration"/>, and its length: the least time the plan
    /// can take however much runs in parallel. Ties go to the earlier step.
    /// </summary>
    public (string[] Path, long Length) CriticalPath(Func<string, long> duration)
    {
        var finish = new Dictionary<string, long>(StringComparer.Ordinal);
        var previous = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var id in Layers().SelectMany(l => l))
        {
            string? before = null;
            foreach (var dependency in _dependsOn[id].OrderBy(d => _position[d]))
            {
                if (before is null || finish[dependency] > finish[before])
                {
                    before = dependency;
                }
            }

            finish[id] = (before is null ? 0 : finish[before]) + duration(id);
            previous[id] = before;
        }

        if (finish.Count == 0)
        {
            return ([], 0);
        }

        var end = _ids.Aggregate((best, id) => finish[id] > finish[best] ? id : best);
        var path = new List<string>();
        for (string? at = end; at is not null; at = previous[at])
        {
            path.Add(at);
        }

        path.Reverse();
        return ([.. path], finish[end]);
    }
}
