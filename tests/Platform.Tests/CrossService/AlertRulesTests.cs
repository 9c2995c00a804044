using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Authentication;
using YamlDotNet.RepresentationModel;

namespace Platform.Tests.CrossService;

/// <summary>
/// The shipped alert rules (deploy/prometheus/platform-alerts.yaml) against what the services really export: every
/// metric an expression reads is on some service's <c>/metrics</c>, which only a system tenant key with the metrics
/// scope may read.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class AlertRulesTests(PlatformFixture platform)
{
    private static readonly string[] Services = ["orchestrator", "planning", "model", "tool", "dashboard"];

    // Written by Prometheus itself, not by a service.
    private static readonly HashSet<string> PrometheusOwn = ["up"];

    private static readonly HashSet<string> PromQlWords =
    [
        "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "by", "without", "on", "ignoring",
        "group_left", "group_right", "and", "or", "unless", "bool", "offset", "abs", "absent", "clamp_min", "clamp_max",
    ];

    [Fact]
    public async Task EveryMetricAnAlertReadsIsExportedByAService()
    {
        var metricsKey = await platform.IssueKeyAsync(ApiKeys.SystemTenant, Scopes.Metrics);
        await ProduceEveryMetricAsync();

        var checks = new HashSet<string>(StringComparer.Ordinal);
        // Gauges read from the databases refresh every 15 to 30 s.
        await WaitUntilAsync("every metric an alert reads to be exported", TimeSpan.FromSeconds(45), async () =>
        {
            var exported = new HashSet<string>(StringComparer.Ordinal);
            foreach (var service in Services)
            {
                using var client = platform.AppHost.Client(service, metricsKey);
                var text = await client.GetStringAsync("/metrics");
                exported.UnionWith(SampleName().Matches(text).Select(m => m.Groups["name"].Value));
                checks.UnionWith(HealthCheck().Matches(text).Select(m => m.Groups["check"].Value));
            }

            List<string> missing = [.. Rules().SelectMany(r => MetricNames(r.Expr).Where(name => !exported.Contains(name)).Select(name => $"{r.Alert}: {name}"))];
            return (Missing: missing, Exported: exported);
        }, metrics => metrics.Missing.Count == 0, metrics => $"not exported: {string.Join(", ", metrics.Missing)}. Exported: {string.Join(" ", metrics.Exported.Where(n => n.StartsWith("platform_", StringComparison.Ordinal)))}");
        Assert.True(Rules().Count >= 8);

        // The dependency alerts select health checks by name: the names they match must be the services' own.
        Assert.Contains(checks, c => Regex.IsMatch(c, "(?i).*(postgres|npgsql).*"));
        Assert.Contains(checks, c => Regex.IsMatch(c, "(?i).*redis.*"));
    }

    [Fact]
    public async Task MetricsAreOnlyForASystemKeyWithTheMetricsScope()
    {
        var (_, tenantAdmin) = await platform.NewTenantAsync("admin");
        var systemRuns = await platform.IssueKeyAsync(ApiKeys.SystemTenant, Scopes.Runs);
        using var anonymous = platform.AppHost.Client("orchestrator");
        using var tenant = platform.AppHost.Client("orchestrator", tenantAdmin);
        using var system = platform.AppHost.Client("orchestrator", systemRuns);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await tenant.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await system.GetAsync("/metrics")).StatusCode);
    }

    /// <summary>A tenant with a budget that spends, and a tool call, so the gauges and histograms that need data have some.</summary>
    private async Task ProduceEveryMetricAsync()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using (var admin = platform.Admin("model"))
        {
            (await admin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = 100 })).EnsureSuccessStatusCode();
        }

        using (var model = platform.AppHost.Client("model", key))
        {
            (await model.PostAsJsonAsync("/v1/chat/completions", new { model = "simulator", messages = new[] { new { role = "user", content = "hi" } } })).EnsureSuccessStatusCode();
        }

        using var tool = platform.AppHost.Client("tool", key);
        (await tool.PostAsJsonAsync("/v1/tools/builtin.calculator/invocations", new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { expression = "1 + 1" } })).EnsureSuccessStatusCode();
    }

    private static List<(string Alert, string Expr)> Rules()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(AppContext.BaseDirectory, "Deploy", "platform-alerts.yaml")))
        {
            yaml.Load(reader);
        }

        var groups = (YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["spec"])["groups"];
        return [.. groups.Cast<YamlMappingNode>().SelectMany(g => ((YamlSequenceNode)g["rules"]).Cast<YamlMappingNode>())
            .Select(r => (((YamlScalarNode)r["alert"]).Value!, ((YamlScalarNode)r["expr"]).Value!))];
    }

    /// <summary>The metric names of a PromQL expression: what is left once label matchers, groupings, ranges, numbers and functions are gone.</summary>
    private static IEnumerable<string> MetricNames(string expr)
    {
        var stripped = Grouping().Replace(Matchers().Replace(Ranges().Replace(expr, " "), " "), " ");
        return Identifier().Matches(stripped).Select(m => m.Value)
            .Where(name => !PromQlWords.Contains(name) && !PrometheusOwn.Contains(name) && !char.IsDigit(name[0])).Distinct();
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", RegexOptions.Multiline)]
    private static partial Regex SampleName();

    [GeneratedRegex(@"^platform_health_check_status\{[^}]*check=""(?<check>[^""]*)""", RegexOptions.Multiline)]
    private static partial Regex HealthCheck();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Matchers();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Ranges();

    [GeneratedRegex(@"\b(by|without|on|ignoring)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()")]
    private static partial Regex Identifier();
}
