using System.Text.Json;

namespace Platform.Tool.Registry;

/// <summary>A tenant's rules for one tool: when a human must approve a call, and how many calls a minute it allows.</summary>
public sealed record ToolPolicy(ApprovalPolicy? Approval, int? RateLimitPerMinute)
{
    public static readonly ToolPolicy None = new(null, null);

    /// <summary>What a policy must be to be stored, keyed by the field at fault.</summary>
    public Dictionary<string, string[]> Problems()
    {
        var errors = new Dictionary<string, string[]>();
        var rules = Approval?.When ?? [];
        if (rules.Count > 50)
        {
            errors["approval.when"] = ["At most 50 rules."];
        }

        for (var i = 0; i < rules.Count && errors.Count == 0; i++)
        {
            if (rules[i] is not { } rule)
            {
                errors[$"approval.when[{i}]"] = ["Each rule has a JSON pointer ('' or '/…') and a pattern."];
            }
            else if (rule.Pointer is null || rule.Pointer.Length > 1000 || (rule.Pointer.Length > 0 && !rule.Pointer.StartsWith('/')))
            {
                errors[$"approval.when[{i}].pointer"] = ["A JSON pointer ('' or '/…') of at most 1000 characters."];
            }
            else if ((rule.Pattern is null ? "A pattern is required." : ArgumentPatterns.Problem(rule.Pattern)) is { } problem)
            {
                errors[$"approval.when[{i}].pattern"] = [problem];
            }
        }

        if (Approval?.ExpiresAfter is { } expiry && (expiry < TimeSpan.FromSeconds(1) || expiry > ApprovalPolicy.MaxExpiry))
        {
            errors["approval.expiresAfter"] = [$"From 1 second to {ApprovalPolicy.MaxExpiry.TotalDays} days."];
        }

        if (RateLimitPerMinute is < 1 or > 1_000_000)
        {
            errors["rateLimitPerMinute"] = ["From 1 to 1000000 calls a minute."];
        }

        return errors;
    }
}

/// <summary>
/// Approval is required always, or when an argument (by JSON pointer) matches a pattern, e.g. <c>/amount</c> matching
/// <c>^[0-9]{4,}</c>. A pending approval is denied once it expires.
/// </summary>
public sealed record ApprovalPolicy(bool Always, IReadOnlyList<ArgumentRule>? When, TimeSpan? ExpiresAfter)
{
    public static readonly TimeSpan DefaultExpiry = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(90);

    /// <summary>How long a pending approval waits; a stored value from before expiries were checked is kept within range.</summary>
    public TimeSpan Expiry => ExpiresAfter is { } expiry ? TimeSpan.FromTicks(Math.Clamp(expiry.Ticks, TimeSpan.TicksPerSecond, MaxExpiry.Ticks)) : DefaultExpiry;

    public bool Requires(JsonElement arguments) =>
        Always || (When ?? []).Any(rule => rule.Matches(arguments));
}

public sealed record ArgumentRule(string Pointer, string Pattern)
{
    public bool Matches(JsonElement arguments) =>
        JsonPointer.Resolve(arguments, Pointer) is { } value
        && ArgumentPatterns.IsMatch(Pattern, value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText());
}
