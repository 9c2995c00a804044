using System.Globalization;
using System.Text;

namespace Platform.Benchmarks;

/// <summary>
/// CPU time of every process on the machine, read from <c>/proc/&lt;pid&gt;/stat</c> (user + system, in clock ticks of
/// 10 ms), grouped by command name: what each part of a run costs, the load generator and the data servers included.
/// </summary>
internal sealed record ProcessCpu(IReadOnlyDictionary<int, (string Name, long Ticks)> Processes)
{
    public const double MillisecondsPerTick = 10;

    public static ProcessCpu Read()
    {
        var processes = new Dictionary<int, (string, long)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                processes[pid] = (Group(name), long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The process ended while being read.
            }
        }

        return new ProcessCpu(processes);
    }

    /// <summary>CPU milliseconds per run by process group since <paramref name="before"/>, largest first.</summary>
    public string PerRun(ProcessCpu before, int runs, IReadOnlyDictionary<int, string> names)
    {
        var groups = Processes
            .Select(p => (Name: names.GetValueOrDefault(p.Key, p.Value.Name), Ticks: p.Value.Ticks - (before.Processes.TryGetValue(p.Key, out var b) ? b.Ticks : 0)))
            .Where(p => p.Ticks > 0)
            .GroupBy(p => p.Name)
            .Select(g => (g.Key, Ms: g.Sum(p => p.Ticks) * MillisecondsPerTick / runs))
            .OrderByDescending(g => g.Ms)
            .ToList();
        var report = new StringBuilder();
        report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"CPU ms/run: total {groups.Sum(g => g.Ms):0.00}"));
        foreach (var (name, ms) in groups.Where(g => g.Ms >= 0.05))
        {
            report.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-24} {ms,8:0.00}"));
        }

        return report.ToString();
    }

    /// <summary>PostgreSQL's backends as one; the caller names the services' processes by pid.</summary>
    private static string Group(string name) => name.StartsWith("postgres", StringComparison.Ordinal) ? "postgres" : name;
}
