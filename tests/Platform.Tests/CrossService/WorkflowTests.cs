using System.Text.Json;
using Platform.TestSupport;
using YamlDotNet.RepresentationModel;

namespace Platform.Tests.CrossService;

/// <summary>
/// The GitHub Actions workflows (.github/workflows): valid against SchemaStore's GitHub workflow schema (checked offline
/// by <c>@action-validator/core</c> from npm), and doing what docs/operations/delivery.md says: CI runs .ci/run on the
/// SDK global.json names, main publishes every service's image tagged with the commit, pins it in the production overlay
/// and applies it only through the production environment's approval.
/// </summary>
public sealed class WorkflowTests
{
    private static readonly string Workflows = Path.Combine(Repository.Root, ".github", "workflows");

    [Fact]
    public async Task EveryWorkflowIsValidAgainstTheGitHubWorkflowSchema()
    {
        var files = Directory.GetFiles(Workflows, "*.yml");

        var results = await ValidateAsync(files);

        Assert.Equal(["ci.yml", "delivery.yml"], files.Select(Path.GetFileName).Order());
        Assert.All(results, r => Assert.True(r.Errors.Length == 0, $"{r.File}: {string.Join("; ", r.Errors)}"));
        Assert.Equal(files.Length, results.Length);
    }

    [Fact]
    public async Task TheSchemaCheckRefusesAWorkflowGitHubWouldRefuse()
    {
        var file = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.yml");
        var broken = File.ReadAllText(Path.Combine(Workflows, "delivery.yml"))
            .Replace("    environment: production\n", "    environment: { nam: production }\n", StringComparison.Ordinal)
            .Replace("    timeout-minutes: 30\n", "    timeout-minutes: soon\n", StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, broken);
        try
        {
            var result = Assert.Single(await ValidateAsync([file]));

            Assert.Contains("/jobs/deploy/environment/name: This property is required", result.Errors);
            Assert.Contains("/jobs/images/timeout-minutes: The value must be number", result.Errors);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void CiRunsTheCiEntryPointOnTheSdkGlobalJsonNames()
    {
        var ci = Load("ci.yml");
        var triggers = Map(ci, "on");
        var steps = Steps(Map(Map(ci, "jobs"), "test"));

        Assert.True(triggers.Children.ContainsKey("pull_request") && triggers.Children.ContainsKey("push") && triggers.Children.ContainsKey("workflow_call"));
        Assert.StartsWith("ubuntu-", Scalar(Map(Map(ci, "jobs"), "test"), "runs-on"), StringComparison.Ordinal);
        Assert.Contains(steps, s => Scalar(s, "uses")?.StartsWith("actions/setup-dotnet@", StringComparison.Ordinal) == true && Scalar(Map(s, "with"), "global-json-file") == "global.json");
        Assert.Contains(steps, s => Scalar(s, "run") == "bash .ci/run");
    }

    [Fact]
    public void DeliveryPublishesEveryServiceTaggedWithTheCommitAndAppliesOnlyAfterApproval()
    {
        var delivery = Load("delivery.yml");
        var jobs = Map(delivery, "jobs");
        var images = Map(jobs, "images");
        var overlay = Map(jobs, "overlay");
        var deploy = Map(jobs, "deploy");

        Assert.Equal(["main"], ((YamlSequenceNode)Map(Map(delivery, "on"), "push")["branches"]).Select(n => ((YamlScalarNode)n).Value));
        Assert.Equal("./.github/workflows/ci.yml", Scalar(Map(jobs, "test"), "uses"));
        Assert.Equal("test", Scalar(images, "needs"));
        Assert.Equal("images", Scalar(overlay, "needs"));
        Assert.Equal("overlay", Scalar(deploy, "needs"));

        // One image per service project, each built with the SDK's container target and the commit's tag.
        var matrix = ((YamlSequenceNode)Map(Map(images, "strategy"), "matrix")["include"]).Cast<YamlMappingNode>()
            .ToDictionary(m => Scalar(m, "service")!, m => Scalar(m, "project")!);
        var services = Directory.GetDirectories(Path.Combine(Repository.Root, "services")).Select(Path.GetFileName).Order();
        Assert.Equal(services, matrix.Keys.Order());
        Assert.All(matrix, m => Assert.True(File.Exists(Path.Combine(Repository.Root, m.Value)), $"{m.Key}: no {m.Value}"));
        var publish = Assert.Single(Steps(images), s => Scalar(s, "run")?.Contains("dotnet publish", StringComparison.Ordinal) == true);
        Assert.Contains("/t:PublishContainer", Scalar(publish, "run"), StringComparison.Ordinal);
        Assert.Contains("-p:ContainerImageTag=\"${{ github.sha }}\"", Scalar(publish, "run"), StringComparison.Ordinal);

        // The overlay is the AppHost's output, published again with that tag; what is applied is what was rendered from it.
        var pin = Assert.Single(Steps(overlay), s => Scalar(s, "run")?.Contains("publish-kubernetes", StringComparison.Ordinal) == true);
        Assert.Contains("--Kubernetes:ImageTag=\"${{ github.sha }}\"", Scalar(pin, "run"), StringComparison.Ordinal);
        Assert.Contains("kubectl kustomize deploy/kubernetes/overlays/production", Scalar(pin, "run"), StringComparison.Ordinal);

        // Only the job behind the production environment's approval touches the cluster, with that environment's secret.
        Assert.Equal("production", Scalar(deploy, "environment"));
        var apply = Assert.Single(Steps(deploy), s => Scalar(s, "run")?.Contains("kubectl apply", StringComparison.Ordinal) == true);
        Assert.Equal("${{ secrets.KUBE_CONFIG }}", Scalar(Map(apply, "env"), "KUBE_CONFIG"));
        var text = File.ReadAllText(Path.Combine(Workflows, "delivery.yml"));
        Assert.Equal(text.IndexOf("secrets.KUBE_CONFIG", StringComparison.Ordinal), text.LastIndexOf("secrets.KUBE_CONFIG", StringComparison.Ordinal));
    }

    private static YamlMappingNode Load(string file)
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Path.Combine(Workflows, file)))
        {
            yaml.Load(reader);
        }

        return (YamlMappingNode)yaml.Documents[0].RootNode;
    }

    private static YamlMappingNode Map(YamlMappingNode node, string key) => (YamlMappingNode)node[key];

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) ? ((YamlScalarNode)value).Value : null;

    private static List<YamlMappingNode> Steps(YamlMappingNode job) => [.. ((YamlSequenceNode)job["steps"]).Cast<YamlMappingNode>()];

    private static async Task<Validation[]> ValidateAsync(IEnumerable<string> files)
    {
        var run = await NodePackages.RunAsync(Path.Combine(Repository.Root, "tests", "github-actions"), Path.Combine("node_modules", "@action-validator", "core", "package.json"), "validate.mjs", files);
        Assert.True(run.ExitCode == 0, run.Errors);
        return [.. run.Lines.Select(line => JsonSerializer.Deserialize<Validation>(line, JsonSerializerOptions.Web)!)];
    }

    private sealed record Validation(string File, string[] Errors);
}
