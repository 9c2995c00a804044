using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.TestSupport;
using YamlDotNet.RepresentationModel;

namespace Platform.Tests.CrossService;

/// <summary>
/// The shipped Grafana dashboard (deploy/grafana/platform-dashboard.json): it has the panels operators need, each reading
/// what the services really export at <c>/metrics</c> (scraped as the alert rules' check does), and its provisioning
/// file points Grafana at a folder of dashboards.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed partial class GrafanaDashboardTests(PlatformFixture platform)
{
    private static readonly string Folder = Path.Combine(Repository.Root, "deploy", "grafana");

    /// <summary>Each panel the dashboard must have, and a metric it must read to show what its title says.</summary>
    private static readonly (string Title, string Metric)[] Required =
    [
        ("Request rate", "http_server_request_duration_seconds_count"),
        ("Error rate (5xx)", "http_server_request_duration_seconds_count"),
        ("Latency p50 / p95 / p99", "http_server_request_duration_seconds_bucket"),
        ("In-flight requests", "http_server_active_requests"),
        ("CPU", "dotnet_process_cpu_time_seconds_total"),
        ("Thread pool", "dotnet_thread_pool_queue_length"),
        ("GC", "dotnet_gc_pause_time_seconds_total"),
        ("Runs by state", "platform_runs_active"),
        ("Spend per tenant", "platform_model_spend_usd_total"),
        ("Gateway overhead p50 / p95 / p99", "platform_model_gateway_overhead_seconds_bucket"),
        ("Budget use", "platform_model_budget_utilization"),
    ];

    [Fact]
    public async Task EveryMetricAPanelOrVariableReadsIsExportedByAService()
    {
        var queries = Queries();

        var (scrape, missing) = await ServiceMetrics.ScrapeUntilExportedAsync(platform, queries);

        Assert.True(missing.Count == 0, $"Not exported: {string.Join(", ", missing)}. Exported: {string.Join(" ", scrape.Names.Order())}");
        Assert.True(queries.Count >= Required.Length);
    }

    [Fact]
    public void TheDashboardHasTheRequiredPanelsEachReadingItsMetricFromTheChosenPrometheus()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "platform-dashboard.json")));
        var root = dashboard.RootElement;
        var panels = Panels(root).ToList();

        Assert.Equal("platform-overview", root.GetProperty("uid").GetString());
        Assert.All(Required, required =>
        {
            var panel = Assert.Single(panels, p => p.GetProperty("title").GetString() == required.Title);
            Assert.Contains(Targets(panel), expr => ServiceMetrics.MetricNames(expr).Contains(required.Metric));
        });

        // Every query goes to the data source the operator picks, so the dashboard loads on any Grafana.
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray().ToList();
        Assert.Contains(variables, v => v.GetProperty("name").GetString() == "datasource" && v.GetProperty("type").GetString() == "datasource"
            && v.GetProperty("query").GetString() == "prometheus");
        Assert.All(panels, p =>
        {
            Assert.Equal("${datasource}", p.GetProperty("datasource").GetProperty("uid").GetString());
            Assert.NotEmpty(Targets(p));
        });

        // Panels are laid out on Grafana's 24-column grid without overlapping.
        var boxes = root.GetProperty("panels").EnumerateArray().Select(p => p.GetProperty("gridPos"))
            .Select(g => (X: g.GetProperty("x").GetInt32(), Y: g.GetProperty("y").GetInt32(), W: g.GetProperty("w").GetInt32(), H: g.GetProperty("h").GetInt32())).ToList();
        Assert.All(boxes, b => Assert.InRange(b.X + b.W, 1, 24));
        Assert.All(boxes.SelectMany((a, i) => boxes.Skip(i + 1).Select(b => (a, b))),
            pair => Assert.False(pair.a.X < pair.b.X + pair.b.W && pair.b.X < pair.a.X + pair.a.W && pair.a.Y < pair.b.Y + pair.b.H && pair.b.Y < pair.a.Y + pair.a.H, $"{pair.a} overlaps {pair.b}"));
    }

    [Fact]
    public void TheProvisioningFileLoadsDashboardsFromAFolder()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(Folder, "dashboards.yaml")))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var provider = (YamlMappingNode)Assert.Single(((YamlSequenceNode)root["providers"]).Children);
        Assert.Equal("1", ((YamlScalarNode)root["apiVersion"]).Value);
        Assert.Equal("file", ((YamlScalarNode)provider["type"]).Value);
        Assert.StartsWith("/", ((YamlScalarNode)((YamlMappingNode)provider["options"])["path"]).Value, StringComparison.Ordinal);
    }

    /// <summary>Every PromQL the dashboard runs, named by panel or variable: each panel's targets, and each query variable's metric.</summary>
    private static List<(string Owner, string Expr)> Queries()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "platform-dashboard.json")));
        var root = dashboard.RootElement;
        var panels = Panels(root).SelectMany(p => Targets(p).Select(expr => (p.GetProperty("title").GetString()!, expr)));
        var variables = root.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Where(v => v.GetProperty("type").GetString() == "query")
            .Select(v => ($"${v.GetProperty("name").GetString()}", LabelValues().Match(v.GetProperty("definition").GetString()!).Groups["metric"].Value));
        return [.. panels, .. variables];
    }

    /// <summary>The panels that query, rows (and the panels a collapsed row holds) unfolded.</summary>
    private static IEnumerable<JsonElement> Panels(JsonElement dashboard) =>
        dashboard.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("type").GetString() == "row" ? [.. p.GetProperty("panels").EnumerateArray()] : new List<JsonElement> { p })
            .Where(p => p.GetProperty("type").GetString() != "row");

    private static List<string> Targets(JsonElement panel) =>
        [.. panel.GetProperty("targets").EnumerateArray().Select(t => t.GetProperty("expr").GetString()!)];

    // label_values(metric, label) or label_values(metric{matchers}, label): the metric is what must be exported.
    [GeneratedRegex(@"^label_values\((?<metric>[a-zA-Z_:][a-zA-Z0-9_:]*)")]
    private static partial Regex LabelValues();
}
