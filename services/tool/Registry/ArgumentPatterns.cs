using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Platform.Tool.Registry;

/// <summary>
/// Approval rules' patterns, matched by the non-backtracking engine: in time linear in the argument, whatever the
/// pattern (<c>^(a+)+$</c> included), so no argument can hang a call or time its check out.
/// </summary>
public static class ArgumentPatterns
{
    public const int MaxLength = 1000;
    private static readonly ConcurrentDictionary<string, Regex?> Compiled = new(StringComparer.Ordinal);

    /// <summary>Why <paramref name="pattern"/> cannot be a rule's pattern, or null.</summary>
    public static string? Problem(string pattern)
    {
        if (pattern.Length > MaxLength)
        {
            return $"A pattern has at most {MaxLength} characters.";
        }

        try
        {
            _ = new Regex(pattern, RegexOptions.NonBacktracking);
            return null;
        }
        catch (NotSupportedException e)
        {
            return $"The pattern cannot be matched in linear time (no backreferences, lookarounds, atomic groups or huge repetition counts): {e.Message}";
        }
        catch (ArgumentException e)
        {
            return $"Not a valid regular expression: {e.Message}";
        }
    }

    /// <summary>
    /// A rule stored before patterns were checked may hold one that the engine refuses: such a rule counts as matched,
    /// so a human decides rather than nobody.
    /// </summary>
    public static bool IsMatch(string pattern, string input)
    {
        if (Compiled.Count > 10_000)
        {
            Compiled.Clear();
        }

        var regex = Compiled.GetOrAdd(pattern, p => Problem(p) is null ? new Regex(p, RegexOptions.NonBacktracking) : null);
        return regex is null || regex.IsMatch(input);
    }
}
