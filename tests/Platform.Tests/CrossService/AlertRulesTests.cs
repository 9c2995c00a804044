using System.Net;
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
public sealed class AlertRulesTests(PlatformFixture platform)
{
    [Fact]
    public async Task EveryMetricAnAlertReadsIsExportedByAService()
    {
        var rules = Rules();

        var (scrape, missing) = await ServiceMetrics.ScrapeUntilExportedAsync(platform, rules);

        Assert.True(missing.Count == 0, $"Not exported: {string.Join(", ", missing)}. Exported: {string.Join(" ", scrape.Names.Where(n => n.StartsWith("platform_", StringComparison.Ordinal)))}");
        Assert.True(rules.Count >= 8);

        // The dependency alerts select health checks by name: the names they match must be the services' own.
        Assert.Contains(scrape.Checks, c => Regex.IsMatch(c, "(?i).*(postgres|npgsql).*"));
        Assert.Contains(scrape.Checks, c => Regex.IsMatch(c, "(?i).*redis.*"));
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
}
