using System.Text.RegularExpressions;

namespace Platform.ServiceDefaults.Text;

/// <summary>
/// Every service matches patterns that tenants wrote (JSON Schema <c>pattern</c> in tools' parameters, agents' output
/// schemas, plan arguments) through libraries that take no timeout of their own, such as NJsonSchema. The process-wide
/// default bounds each such match, so <c>^(a+)+$</c> against a long input costs at most this long, not a core.
/// The bound is wall-clock time and also covers the libraries' own patterns (Dapper's, on every statement): 200 ms
/// failed a service's migrations at start-up on a loaded machine, where a cold process's first matches wait for the
/// JIT and the CPU. Two seconds keeps a hostile pattern's cost bounded without failing honest work.
/// </summary>
public static class RegexMatchTimeout
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(2);

    private const string ProcessDefaultKey = "REGEX_DEFAULT_MATCH_TIMEOUT";

    /// <summary>
    /// Sets the default. It takes effect only if no <see cref="Regex"/> exists yet in the process, which holds where the
    /// services call it, first thing after creating their builder (tested through planning, the orchestrator and the
    /// tool service); a host that made one earlier, such as a test process, keeps its own default.
    /// </summary>
    public static void Apply() => AppDomain.CurrentDomain.SetData(ProcessDefaultKey, Default);
}
