using System.Text.Json;
using System.Text.RegularExpressions;

namespace Platform.Tool.Registry;

/// <summary>A tenant's rules for one tool: when a human must approve a call, and how many calls a minute it allows.</summary>
public sealed record ToolPolicy(ApprovalPolicy? Approval, int? RateLimitPerMinute)
{
    public static readonly ToolPolicy None = new(null, null);
}

/// <summary>
/// Approval is required always, or when an argument (by JSON pointer) matches a pattern, e.g. <c>/amount</c> matching
/// <c>^[0-9]{4,}</c>. A pending approval is denied once it expires.
/// </summary>
public sealed record ApprovalPolicy(bool Always, IReadOnlyList<ArgumentRule>? When, TimeSpan? ExpiresAfter)
{
    public static readonly TimeSpan DefaultExpiry = TimeSpan.FromHours(24);

    public bool Requires(JsonElement arguments) =>
        Always || (When ?? []).Any(rule => rule.Matches(arguments));
}

public sealed record ArgumentRule(string Pointer, string Pattern)
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    public bool Matches(JsonElement arguments) =>
        JsonPointer.Resolve(arguments, Pointer) is { } value
        && Regex.IsMatch(value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText(), Pattern, RegexOptions.None, MatchTimeout);
}
