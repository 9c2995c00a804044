using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Tests;

/// <summary>
/// What the services really export at <c>/metrics</c>, and the metric names a PromQL expression reads: what the checks
/// of the alert rules and of the Grafana dashboard compare. Scraping needs a system tenant key with the metrics scope.
/// </summary>
internal static partial class ServiceMetrics
{
    private static readonly string[] Services = ["orchestrator", "planning", "model", "tool", "dashboard"];

    // Written by Prometheus itself, not by a service.
    private static readonly HashSet<string> PrometheusOwn = ["up"];

    private static readonly HashSet<string> PromQlWords =
    [
        "sum", "min", "max", "avg", "count", "rate", "irate", "increase", "histogram_quantile", "by", "without", "on", "ignoring",
        "group_left", "group_right", "and", "or", "unless", "bool", "offset", "abs", "absent", "clamp_min", "clamp_max", "topk",
    ];

    /// <summary>One scrape of every service: the sample names, and the health checks' names.</summary>
    public sealed record Scrape(HashSet<string> Names, HashSet<string> Checks);

    /// <summary>
    /// Makes traffic that gives every instrument a sample, then scrapes every service until each expression's metrics
    /// are exported or 40 s have passed; answers the last scrape and what it still lacks, as "owner: metric".
    /// </summary>
    public static async Task<(Scrape Scrape, List<string> Missing)> ScrapeUntilExportedAsync(PlatformFixture platform, IReadOnlyCollection<(string Owner, string Expr)> expressions)
    {
        var metricsKey = await platform.IssueKeyAsync(ApiKeys.SystemTenant, Scopes.Metrics);
        var parked = await ProduceEveryMetricAsync(platform);
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var scrape = await ScrapeAsync(platform, metricsKey);
                List<string> missing = [.. expressions.SelectMany(e => MetricNames(e.Expr).Where(name => !scrape.Names.Contains(name)).Select(name => $"{e.Owner}: {name}")).Distinct()];
                if (missing.Count == 0 || attempt == 40)
                {
                    return (scrape, missing);
                }

                // Gauges read from the databases refresh every 15 to 30 s.
                await Task.Delay(1000);
            }
        }
        finally
        {
            await parked.DisposeAsync();
        }
    }

    /// <summary>The metric names of a PromQL expression: what is left once label matchers, groupings, ranges, numbers and functions are gone.</summary>
    public static IEnumerable<string> MetricNames(string expr)
    {
        var stripped = Grouping().Replace(Matchers().Replace(Ranges().Replace(expr, " "), " "), " ");
        return Identifier().Matches(stripped).Select(m => m.Value)
            .Where(name => !PromQlWords.Contains(name) && !PrometheusOwn.Contains(name) && !char.IsDigit(name[0])).Distinct();
    }

    private static async Task<Scrape> ScrapeAsync(PlatformFixture platform, string metricsKey)
    {
        var scrape = new Scrape(new HashSet<string>(StringComparer.Ordinal), new HashSet<string>(StringComparer.Ordinal));
        foreach (var service in Services)
        {
            using var client = platform.AppHost.Client(service, metricsKey);
            var text = await client.GetStringAsync("/metrics");
            scrape.Names.UnionWith(SampleName().Matches(text).Select(m => m.Groups["name"].Value));
            scrape.Checks.UnionWith(HealthCheck().Matches(text).Select(m => m.Groups["check"].Value));
        }

        return scrape;
    }

    /// <summary>
    /// A tenant with a budget that spends, a tool call, a run that ends and one parked at an approval (the active-runs
    /// gauge only has series for states some run is in), so the gauges and histograms that need data have some. The
    /// parked run is denied when the answer is disposed, so it leaves no run behind.
    /// </summary>
    private static async Task<IAsyncDisposable> ProduceEveryMetricAsync(PlatformFixture platform)
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

        using (var tool = platform.AppHost.Client("tool", key))
        {
            (await tool.PostAsJsonAsync("/v1/tools/builtin.calculator/invocations", new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { expression = "1 + 1" } })).EnsureSuccessStatusCode();
        }

        await Runs.CreateAgentAsync(platform.AppHost, key, "metrics");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var ended = await Runs.StartAsync(orchestrator, "metrics", "write a haiku");
        var parked = await Runs.StartAsync(orchestrator, "metrics", "draft a note, then approve it with a human, then write it up");
        await Runs.WaitForAsync(orchestrator, ended.Id(), RunTimeout);
        var gate = (await Runs.WaitForAsync(orchestrator, parked.Id(), RunTimeout, "waiting_approval")).Steps()
            .Single(s => s.GetProperty("kind").GetString() == "approval").GetProperty("id").GetString();
        // Not the key that started the run: that one may not decide its approvals.
        return new Deny(platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "approve")), $"/v1/runs/{parked.Id()}/steps/{gate}/deny");
    }

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    private sealed class Deny(HttpClient approver, string path) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            using (approver)
            {
                (await approver.PostAsJsonAsync(path, new { reason = "metrics scraped" })).EnsureSuccessStatusCode();
            }
        }
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
