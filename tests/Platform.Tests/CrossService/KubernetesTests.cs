using System.Text.Json;
using k8s;
using k8s.Models;
using Platform.TestSupport;
using YamlDotNet.Serialization;

namespace Platform.Tests.CrossService;

/// <summary>
/// The Kubernetes YAML the AppHost publishes: current with the app model, valid against the Kubernetes schemas (checked
/// offline by <c>kubernetes-models</c> from npm), hardened, and with NetworkPolicies that open exactly the app model's edges.
/// </summary>
[Collection(AppHostProcessCollection.Name)] // it runs the built AppHost as a process, one such test at a time
public sealed class KubernetesTests
{
    private static readonly string Output = Path.Combine(Repository.Root, "deploy", "kubernetes");

    [Fact]
    public async Task CommittedKubernetesOutputEqualsWhatTheAppHostPublishes()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"kubernetes-{Guid.NewGuid():N}");
        var (exitCode, _, stderr) = await AppHostProcess.PublishAsync("--operation", "publish", "--step", "publish-kubernetes", "--output-path", folder);

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("", stderr);
        var published = Files(folder);
        Assert.Equal(Files(Output).Keys.Order(), published.Keys.Order());
        Assert.All(published, file => Assert.Equal(File.ReadAllText(Path.Combine(Output, file.Key)), file.Value));
    }

    [Fact]
    public async Task EveryPublishedObjectAndAlertRuleIsValidKubernetes()
    {
        var files = Directory.GetFiles(Output, "*.yaml", SearchOption.AllDirectories)
            .Append(Path.Combine(Repository.Root, "deploy", "prometheus", "platform-alerts.yaml"));

        var results = await ValidateAsync(files);

        Assert.All(results, r => Assert.True(r.Errors.Length == 0, $"{r.File}: {r.Kind} {r.Name}: {string.Join("; ", r.Errors)}"));
        var kinds = results.Select(r => r.Kind).ToHashSet();
        Assert.Superset(new HashSet<string> { "Namespace", "ConfigMap", "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "NetworkPolicy", "StatefulSet", "PrometheusRule" }, kinds);
    }

    [Fact]
    public async Task TheSchemaCheckRefusesObjectsKubernetesWouldRefuse()
    {
        var file = Path.Combine(Path.GetTempPath(), $"broken-{Guid.NewGuid():N}.yaml");
        var deployment = Overlay("production").OfType<V1Deployment>().First();
        var yaml = KubernetesYaml.Serialize(deployment)
            .Replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: sometimes", StringComparison.Ordinal)
            .Replace("path: /health", "path: 7", StringComparison.Ordinal);
        await File.WriteAllTextAsync(file, yaml.TrimEnd('\n') + "\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}, policyTypes: [Sideways]}\n");

        var results = await ValidateAsync([file]);

        Assert.Equal(2, results.Length);
        Assert.Contains("readOnlyRootFilesystem must be boolean", results[0].Errors.Single(), StringComparison.Ordinal);
        Assert.Contains("policyTypes/0 must be equal to one of the allowed values", results[1].Errors.Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("staging")]
    [InlineData("production")]
    public void NetworkPoliciesOpenExactlyTheEdgesTheAppModelReferences(string overlay)
    {
        var (references, external) = ManifestEdges();
        var objects = Overlay(overlay);
        var policies = objects.OfType<V1NetworkPolicy>().ToList();
        var policyOf = policies.Where(p => p.Spec.PodSelector.MatchLabels?.ContainsKey(NameLabel) == true)
            .ToDictionary(p => p.Spec.PodSelector.MatchLabels[NameLabel]);

        var deny = Assert.Single(policies, p => p.Metadata.Name == "default-deny");
        Assert.Equal(["Ingress", "Egress"], deny.Spec.PolicyTypes);
        Assert.Null(deny.Spec.Ingress);
        Assert.Null(deny.Spec.Egress);

        // Out: each service reaches the pods it references (and DNS), nothing else inside the cluster.
        var egress = policyOf.Values.SelectMany(p => (p.Spec.Egress ?? []).SelectMany(rule => rule.To ?? [])
                .Where(peer => peer.PodSelector?.MatchLabels?.ContainsKey(NameLabel) == true && peer.NamespaceSelector is null)
                .Select(peer => (From: p.Spec.PodSelector.MatchLabels[NameLabel], To: peer.PodSelector.MatchLabels[NameLabel])))
            .ToHashSet();
        Assert.Equal(references.Order(), egress.Order());

        // In: each pod accepts the pods that reference it; an external endpoint accepts anyone; Prometheus may scrape.
        var ingress = policyOf.Values.SelectMany(p => (p.Spec.Ingress ?? []).SelectMany(rule => rule.FromProperty ?? [])
                .Where(peer => peer.PodSelector is not null)
                .Select(peer => (From: peer.PodSelector.MatchLabels[NameLabel], To: p.Spec.PodSelector.MatchLabels[NameLabel])))
            .ToHashSet();
        var inCluster = references.Where(edge => objects.Any(o => o is V1Deployment or V1StatefulSet && ((IMetadata<V1ObjectMeta>)o).Metadata.Name == edge.To));
        Assert.Equal(inCluster.Where(edge => !external.Contains(edge.To)).Order(), ingress.Order());
        var fromAnywhere = policyOf.Where(p => p.Value.Spec.Ingress?.Any(rule => rule.FromProperty is null) == true).Select(p => p.Key);
        Assert.Equal(external.Order(), fromAnywhere.Order());

        // Beyond the cluster: public addresses only, and only for the services that call out.
        var internet = policyOf.Where(p => p.Value.Spec.Egress?.Any(rule => rule.To?.Any(peer => peer.IpBlock?.Cidr == "0.0.0.0/0" && peer.IpBlock.Except?.Contains("10.0.0.0/8") == true) == true) == true);
        Assert.Equal(["model", "orchestrator", "tool"], internet.Select(p => p.Key).Order());
        var dataServers = references.Select(edge => edge.To).Where(to => !policyOf.ContainsKey(to) || objects.OfType<V1StatefulSet>().Any(s => s.Metadata.Name == to)).ToHashSet();
        if (overlay == "production")
        {
            var externalData = Assert.Single(policies, p => p.Metadata.Name == "external-data-servers");
            Assert.Equal(references.Where(e => dataServers.Contains(e.To)).Select(e => e.From).Distinct().Order(),
                externalData.Spec.PodSelector.MatchExpressions.Single().Values.Order());
        }
    }

    [Theory]
    [InlineData("staging")]
    [InlineData("production")]
    public void WorkloadsAreHardenedProbedAndBoundedAndEveryReferenceResolves(string overlay)
    {
        var objects = Overlay(overlay);
        var readme = File.ReadAllText(Path.Combine(Output, "README.md"));
        var @namespace = objects.OfType<V1Namespace>().Single().Metadata.Name;
        var pods = objects.OfType<V1Deployment>().Select(d => (d.Metadata.Name, d.Spec.Template))
            .Concat(objects.OfType<V1StatefulSet>().Select(s => (s.Metadata.Name, s.Spec.Template))).ToList();

        Assert.Equal(overlay == "staging" ? 7 : 10, pods.Count);
        Assert.DoesNotContain(objects, o => o is V1Secret);
        foreach (var (name, template) in pods)
        {
            Assert.True(template.Spec.SecurityContext.RunAsNonRoot, name);
            Assert.NotEqual(0, template.Spec.SecurityContext.RunAsUser);
            Assert.Equal("RuntimeDefault", template.Spec.SecurityContext.SeccompProfile.Type);
            Assert.False(template.Spec.AutomountServiceAccountToken);
            var container = Assert.Single(template.Spec.Containers);
            Assert.True(container.SecurityContext.ReadOnlyRootFilesystem, name);
            Assert.False(container.SecurityContext.AllowPrivilegeEscalation, name);
            Assert.Equal(["ALL"], container.SecurityContext.Capabilities.Drop);
            Assert.All(new[] { container.Resources.Requests, container.Resources.Limits }, r => Assert.Superset(new HashSet<string> { "cpu", "memory" }, r.Keys.ToHashSet()));
            Assert.NotNull(container.ReadinessProbe);
            Assert.NotNull(container.LivenessProbe);

            // Every value a pod reads from a Secret is one the README's command for this namespace creates.
            foreach (var secret in (container.Env ?? []).Select(e => e.ValueFrom?.SecretKeyRef).OfType<V1SecretKeySelector>())
            {
                Assert.Matches($@"-n {@namespace} create secret generic {secret.Name}( \\\n  --from-literal=[^\n]+)*? \\\n  --from-literal={secret.Key}=", readme);
            }

            Assert.All((container.Env ?? []).Where(e => e.Value is not null), e => Assert.DoesNotContain("assword", e.Value, StringComparison.OrdinalIgnoreCase));
            Assert.All((container.EnvFrom ?? []).Select(e => e.ConfigMapRef.Name), map => Assert.Contains(objects.OfType<V1ConfigMap>(), m => m.Metadata.Name == map));
        }

        foreach (var deployment in objects.OfType<V1Deployment>().Where(d => d.Spec.Template.Metadata.Labels["track"] == "stable"))
        {
            var container = deployment.Spec.Template.Spec.Containers.Single();
            Assert.Equal("/health", container.ReadinessProbe.HttpGet.Path);
            Assert.Equal("/alive", container.LivenessProbe.HttpGet.Path);
            Assert.Equal("/alive", container.StartupProbe.HttpGet.Path);
            Assert.Null(deployment.Spec.Replicas);
            var autoscaler = Assert.Single(objects.OfType<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == deployment.Metadata.Name);
            Assert.Equal(["cpu", "memory"], autoscaler.Spec.Metrics.Select(m => m.Resource.Name).Order());
            Assert.Equal(overlay == "staging" ? 1 : 2, autoscaler.Spec.MinReplicas);
        }

        // Production's canaries: the stable pods' twins on their own track except for the image, with no replicas until a
        // rollout starts one, which the service's Service (both tracks) sends requests to and its autoscaler leaves alone.
        foreach (var canary in objects.OfType<V1Deployment>().Where(d => d.Spec.Template.Metadata.Labels["track"] == "canary"))
        {
            Assert.Equal("production", overlay);
            var stable = objects.OfType<V1Deployment>().Single(d => $"{d.Metadata.Name}-canary" == canary.Metadata.Name);
            Assert.Equal(0, canary.Spec.Replicas);
            var twin = KubernetesYaml.Deserialize<V1PodSpec>(KubernetesYaml.Serialize(canary.Spec.Template.Spec));
            Assert.NotEqual(stable.Spec.Template.Spec.Containers.Single().Image, twin.Containers.Single().Image);
            twin.Containers.Single().Image = stable.Spec.Template.Spec.Containers.Single().Image;
            Assert.Equal(KubernetesYaml.Serialize(stable.Spec.Template.Spec), KubernetesYaml.Serialize(twin));
            var service = objects.OfType<V1Service>().Single(s => s.Metadata.Name == stable.Metadata.Name);
            Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, canary.Spec.Template.Metadata.Labels[label.Key]));
            Assert.DoesNotContain(objects.OfType<V2HorizontalPodAutoscaler>(), h => h.Spec.ScaleTargetRef.Name == canary.Metadata.Name);
        }

        // An interactive dashboard page keeps its circuit in one pod, so its clients stay on one.
        Assert.Equal("ClientIP", objects.OfType<V1Service>().Single(s => s.Metadata.Name == "dashboard").Spec.SessionAffinity);
        Assert.All(objects.OfType<V1Service>().Where(s => s.Metadata.Name != "dashboard"), s => Assert.Null(s.Spec.SessionAffinity));

        // No pod is claimed by two controllers.
        var controllers = objects.OfType<V1Deployment>().Select(d => d.Spec.Selector.MatchLabels).Concat(objects.OfType<V1StatefulSet>().Select(s => s.Spec.Selector.MatchLabels)).ToList();
        Assert.All(pods, pod => Assert.Single(controllers, selector => selector.All(label => pod.Template.Metadata.Labels.TryGetValue(label.Key, out var value) && value == label.Value)));

        // Every selector selects some pod of the overlay.
        var selectors = objects.OfType<V1Service>().Select(s => s.Spec.Selector)
            .Concat(objects.OfType<V1PodDisruptionBudget>().Select(p => p.Spec.Selector.MatchLabels))
            .Concat(objects.OfType<V1NetworkPolicy>().Select(p => p.Spec.PodSelector.MatchLabels).OfType<IDictionary<string, string>>());
        Assert.All(selectors, selector => Assert.Contains(pods, pod => selector.All(label => pod.Template.Metadata.Labels.TryGetValue(label.Key, out var value) && value == label.Value)));
        Assert.Equal(pods.Count(p => !(p.Template.Metadata.Labels.TryGetValue("track", out var track) && track == "canary")), objects.OfType<V1Service>().Count());
    }

    [Theory]
    [InlineData("staging")]
    [InlineData("production")]
    public void EveryImageIsPinnedAndEachCanaryRunsAnotherImageThanItsStableTwin(string overlay)
    {
        var objects = Overlay(overlay);
        var images = Images(Path.Combine(Output, "overlays", overlay));
        var pods = objects.OfType<V1Deployment>().Select(d => (d.Metadata.Name, d.Spec.Template))
            .Concat(objects.OfType<V1StatefulSet>().Select(s => (s.Metadata.Name, s.Spec.Template))).ToList();

        var resolved = pods.ToDictionary(p => p.Name, p => Resolve(images, p.Template.Spec.Containers.Single().Image));

        Assert.All(resolved, image => Assert.True(IsPinned(image.Value), $"{image.Key} runs {image.Value}, which no tag or digest pins"));
        var canaries = objects.OfType<V1Deployment>().Where(d => d.Spec.Template.Metadata.Labels["track"] == "canary").ToList();
        Assert.Equal(overlay == "production" ? 5 : 0, canaries.Count);
        Assert.All(canaries, canary =>
        {
            var stable = resolved[canary.Metadata.Name[..^"-canary".Length]];
            Assert.NotEqual(stable, resolved[canary.Metadata.Name]);
            Assert.Equal(ImageRepository(stable), ImageRepository(resolved[canary.Metadata.Name]));
        });
    }

    [Theory]
    [InlineData("Kubernetes:ImageTag 'latest' does not pin an image", "--Kubernetes:ImageTag=latest")]
    [InlineData("Kubernetes:CanaryImageTag 'Latest' does not pin an image", "--Kubernetes:CanaryImageTag=Latest")]
    [InlineData("Kubernetes:ImageTag 'v1 beta' does not pin an image", "--Kubernetes:ImageTag=v1 beta")]
    [InlineData("a canary that runs the stable image tests nothing", "--Kubernetes:ImageTag=2.0.0", "--Kubernetes:CanaryImageTag=2.0.0")]
    public async Task PublishingRefusesAnUnpinnedTagOrACanaryThatRunsTheStableImage(string refusal, params string[] settings)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"kubernetes-{Guid.NewGuid():N}");

        var (exitCode, stdout, _) = await AppHostProcess.PublishAsync(["--operation", "publish", "--step", "publish-kubernetes", "--output-path", folder, .. settings]);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(refusal, stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public async Task ARolloutsTagsAreWhatTheProductionOverlayPins()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"kubernetes-{Guid.NewGuid():N}");
        var digest = $"sha256:{new string('a', 64)}";
        try
        {
            var (exitCode, _, stderr) = await AppHostProcess.PublishAsync("--operation", "publish", "--step", "publish-kubernetes", "--output-path", folder,
                "--Kubernetes:ImageRegistry=registry.test/platform", "--Kubernetes:ImageTag=2.0.0", $"--Kubernetes:CanaryImageTag={digest}");

            Assert.True(exitCode == 0, stderr);
            var images = Images(Path.Combine(folder, "overlays", "production"));
            Assert.Equal("registry.test/platform/model:2.0.0", Resolve(images, "platform-model"));
            Assert.Equal($"registry.test/platform/model@{digest}", Resolve(images, "platform-model-canary"));
            Assert.Equal("registry.test/platform/model:2.0.0", Resolve(Images(Path.Combine(folder, "overlays", "staging")), "platform-model"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private const string NameLabel = "app.kubernetes.io/name";

    /// <summary>An overlay's Kustomize <c>images:</c>: what each placeholder image becomes (<c>name:tag</c> or <c>name@digest</c>).</summary>
    private static Dictionary<string, string> Images(string folder)
    {
        var kustomization = new Deserializer().Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(folder, "kustomization.yaml")));
        return ((List<object>)kustomization["images"]).Cast<Dictionary<object, object>>().ToDictionary(
            entry => (string)entry["name"],
            entry => entry.TryGetValue("digest", out var digest) ? $"{entry["newName"]}@{digest}" : $"{entry["newName"]}:{entry["newTag"]}");
    }

    private static string Resolve(Dictionary<string, string> images, string image) => images.GetValueOrDefault(image, image);

    /// <summary>A digest, or a tag other than <c>latest</c> (an image without a tag is <c>latest</c>).</summary>
    private static bool IsPinned(string image) => image.Contains('@', StringComparison.Ordinal)
        ? System.Text.RegularExpressions.Regex.IsMatch(image, "@sha256:[0-9a-f]{64}$")
        : Tag(image) is { Length: > 0 } tag && !tag.Equals("latest", StringComparison.OrdinalIgnoreCase);

    private static string Tag(string image) => image.LastIndexOf(':') > image.LastIndexOf('/') ? image[(image.LastIndexOf(':') + 1)..] : "";

    private static string ImageRepository(string image) => image.Contains('@', StringComparison.Ordinal)
        ? image[..image.IndexOf('@', StringComparison.Ordinal)]
        : image[..(image.Length - Tag(image).Length)].TrimEnd(':');

    /// <summary>The edges the manifest Aspire publishes names (service → service, service → data server), and the services with an external endpoint.</summary>
    private static (HashSet<(string From, string To)> References, HashSet<string> External) ManifestEdges()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repository.Root, "aspire-manifest.json")));
        var resources = manifest.RootElement.GetProperty("resources");
        var references = new HashSet<(string, string)>();
        var external = new HashSet<string>();
        foreach (var project in resources.EnumerateObject().Where(r => r.Value.GetProperty("type").GetString() == "project.v0"))
        {
            foreach (var variable in project.Value.GetProperty("env").EnumerateObject().Select(v => v.Name))
            {
                if (variable.StartsWith("services__", StringComparison.Ordinal))
                {
                    references.Add((project.Name, variable.Split("__")[1]));
                }
                else if (variable.StartsWith("ConnectionStrings__", StringComparison.Ordinal))
                {
                    var connection = variable["ConnectionStrings__".Length..];
                    var target = resources.GetProperty(connection);
                    // A database is a value on its server's connection string: "{postgres.connectionString};Database=…".
                    references.Add((project.Name, target.GetProperty("type").GetString() == "value.v0"
                        ? target.GetProperty("connectionString").GetString()!.Split('.')[0].TrimStart('{')
                        : connection));
                }
            }

            if (project.Value.GetProperty("bindings").EnumerateObject().Any(b => b.Value.TryGetProperty("external", out var e) && e.GetBoolean()))
            {
                external.Add(project.Name);
            }
        }

        return (references, external);
    }

    /// <summary>An overlay's objects as Kustomize would assemble them: its own files and its base's, by their kustomization.yaml.</summary>
    private static List<object> Overlay(string name)
    {
        var objects = new List<object>();
        Collect(Path.Combine(Output, "overlays", name));
        return objects;

        void Collect(string folder)
        {
            var kustomization = new Deserializer().Deserialize<Dictionary<string, object>>(File.ReadAllText(Path.Combine(folder, "kustomization.yaml")));
            foreach (var resource in ((List<object>)kustomization["resources"]).Cast<string>())
            {
                var path = Path.GetFullPath(Path.Combine(folder, resource));
                if (Directory.Exists(path))
                {
                    Collect(path);
                }
                else
                {
                    objects.AddRange(KubernetesYaml.LoadAllFromString(File.ReadAllText(path)));
                }
            }
        }
    }

    private static Dictionary<string, string> Files(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => Path.GetRelativePath(folder, f), File.ReadAllText);

    private sealed record Validation(string File, string Kind, string? Name, string[] Errors);

    private static async Task<Validation[]> ValidateAsync(IEnumerable<string> files)
    {
        var run = await NodePackages.RunAsync(Path.Combine(Repository.Root, "tests", "kubernetes"), Path.Combine("node_modules", "kubernetes-models", "package.json"), "validate.mjs", files);
        Assert.True(run.ExitCode == 0, run.Errors);
        return [.. run.Lines.Select(line => JsonSerializer.Deserialize<Validation>(line, JsonSerializerOptions.Web)!)];
    }
}
