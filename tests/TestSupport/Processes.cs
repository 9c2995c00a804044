using System.Diagnostics;
using System.Globalization;

namespace Platform.TestSupport;

/// <summary>The machine's processes as /proc shows them: parents, command lines, environments, signals.</summary>
public static class Processes
{
    public sealed record Entry(int Pid, int Parent, string CommandLine);

    public static IReadOnlyList<Entry> Table()
    {
        var entries = new List<Entry>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // The command name in parentheses may hold spaces; the state and parent pid follow it.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields[0] != "Z")
            {
                entries.Add(new Entry(pid, int.Parse(fields[1], CultureInfo.InvariantCulture), CommandLine(pid)));
            }
        }

        return entries;
    }

    /// <summary>Every process that is one of <paramref name="roots"/> or descends from one.</summary>
    public static IReadOnlyList<int> Below(IReadOnlySet<int> roots)
    {
        var parents = Table().ToDictionary(e => e.Pid, e => e.Parent);
        return [.. parents.Keys.Where(pid => IsBelow(pid, roots, parents))];
    }

    private static bool IsBelow(int pid, IReadOnlySet<int> roots, Dictionary<int, int> parents)
    {
        for (var current = pid; ; current = parents[current])
        {
            if (roots.Contains(current))
            {
                return true;
            }

            if (!parents.TryGetValue(current, out var parent) || parent <= 1 || !parents.ContainsKey(parent))
            {
                return false;
            }
        }
    }

    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
    }

    public static Dictionary<string, string> Environment(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(v => v.Split('=', 2)).Where(v => v.Length == 2).GroupBy(v => v[0]).ToDictionary(g => g.Key, g => g.First()[1]);
        }
        catch (IOException)
        {
            return [];
        }
    }

    public static void SendSignal(int pid, int signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public static bool IsAlive(int pid) =>
        File.Exists($"/proc/{pid}/stat") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);
}
