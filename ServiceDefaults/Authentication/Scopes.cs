namespace Platform.ServiceDefaults.Authentication;

/// <summary>What an API key may do. <see cref="Admin"/> includes every other scope within its tenant.</summary>
public static class Scopes
{
    public const string Admin = "admin";
    public const string Runs = "runs";
    public const string Agents = "agents";
    public const string Plans = "plans";
    public const string Models = "models";
    public const string Tools = "tools";

    /// <summary>Decides approvals (tool calls and run steps). Asking is another scope's, so a key that may ask may not approve.</summary>
    public const string Approve = "approve";

    /// <summary>Reads <c>/metrics</c> on every service; only a key of the system tenant may (what Prometheus scrapes with).</summary>
    public const string Metrics = "metrics";

    public static readonly IReadOnlySet<string> All = new HashSet<string>([Admin, Runs, Agents, Plans, Models, Tools, Approve, Metrics], StringComparer.Ordinal);
}
