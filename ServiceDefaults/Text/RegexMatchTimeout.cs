using System.Text.RegularExpressions;

namespace Platform.ServiceDefaults.Text;

/// <summary>
/// Every service matches patterns that tenants wrote (JSON Schema <c>pattern</c> in tools' parameters, agents' output
/// schemas, plan arguments) through libraries that take no timeout of their own, such as NJsonSchema. The process-wide
/// default bounds each such match, so <c>^(a+)+$</c> against a long input costs at most this long, not a core.
/// </summary>
public static class RegexMatchTimeout
{
    public static readonly TimeSpan Default = TimeSpan.FromMilliseconds(200);

    private const string ProcessDefaultKey = "REGEX_DEFAULT_MATCH_TIMEOUT";

    /// <summary>Sets the default; it takes effect only before the first <see cref="Regex"/> of the process, so that is checked.</summary>
    public static void Apply()
    {
        AppDomain.CurrentDomain.SetData(ProcessDefaultKey, Default);
        if (new Regex("x").MatchTimeout != Default)
        {
            throw new InvalidOperationException(
                $"A Regex was created before the services' default match timeout was set; call {nameof(RegexMatchTimeout)}.{nameof(Apply)} first.");
        }
    }
}
