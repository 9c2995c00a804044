using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using k8s;
using Microsoft.Extensions.Configuration;

namespace Platform.Hosting.Kubernetes;

/// <summary>
/// Writes the app model as a Kustomize base (every service's ConfigMap, Deployment, Service, PodDisruptionBudget and
/// NetworkPolicy) with a staging overlay (one replica each, PostgreSQL and Redis as StatefulSets) and a production overlay
/// (more replicas, external data servers). Secret values are never written: workloads read them from two Secrets the
/// operator creates, with the commands in the README beside them.
/// </summary>
internal sealed class KubernetesPublisher(KubernetesAppModel app, IConfiguration configuration)
{
    private const string Header = "# Written by the AppHost's publish-kubernetes step from the app model; change the AppHost, not this file.\n";

    private readonly KubernetesImages _images = new(configuration);

    private string MonitoringNamespace => configuration["Kubernetes:MonitoringNamespace"] ?? "monitoring";

    public async Task WriteAsync(string folder, CancellationToken cancellationToken)
    {
        foreach (var generated in new[] { "base", "overlays" }.Select(f => Path.Combine(folder, f)).Where(Directory.Exists))
        {
            Directory.Delete(generated, recursive: true);
        }

        var files = new Dictionary<string, string> { ["README.md"] = Readme() };
        files["base/network-defaults.yaml"] = Yaml(KubernetesObjects.DenyByDefault());
        foreach (var service in app.Services)
        {
            files[$"base/{service.Name}.yaml"] = Yaml([.. KubernetesObjects.ForService(service, app.DataServers, MonitoringNamespace, ReachedBy(service.Name))]);
        }

        files["base/kustomization.yaml"] = Kustomization(null, ["network-defaults.yaml", .. app.Services.Select(s => $"{s.Name}.yaml")], canaries: false);

        files["overlays/staging/namespace.yaml"] = Yaml(KubernetesObjects.Namespace("platform-staging"));
        files["overlays/staging/autoscaling.yaml"] = Yaml([.. app.Services.Select(s => KubernetesObjects.Autoscaler(s, 1, 3))]);
        foreach (var server in app.DataServers)
        {
            files[$"overlays/staging/{server.Name}.yaml"] = Yaml([.. KubernetesObjects.ForDataServer(server, ReachedBy(server.Name))]);
        }

        files["overlays/staging/kustomization.yaml"] = Kustomization("platform-staging",
            ["namespace.yaml", "../../base", "autoscaling.yaml", .. app.DataServers.Select(s => $"{s.Name}.yaml")], canaries: false);

        files["overlays/production/namespace.yaml"] = Yaml(KubernetesObjects.Namespace("platform"));
        files["overlays/production/autoscaling.yaml"] = Yaml([.. app.Services.Select(s => KubernetesObjects.Autoscaler(s, s.Workload.MinReplicas, s.Workload.MaxReplicas))]);
        files["overlays/production/external-data-servers.yaml"] = Yaml(KubernetesObjects.ExternalDataServers(app.Services, app.DataServers));
        files["overlays/production/canary.yaml"] = Yaml([.. app.Services.Select(KubernetesObjects.Canary)]);
        files["overlays/production/kustomization.yaml"] = Kustomization("platform", ["namespace.yaml", "../../base", "autoscaling.yaml", "canary.yaml", "external-data-servers.yaml"], canaries: true);

        foreach (var (path, text) in files)
        {
            var file = Path.Combine(folder, path);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllTextAsync(file, text, cancellationToken);
        }
    }

    private IEnumerable<string> ReachedBy(string name) =>
        app.Services.Where(s => s.Services.Contains(name) || s.DataServers.Contains(name)).Select(s => s.Name);

    private string Kustomization(string? @namespace, IEnumerable<string> resources, bool canaries)
    {
        var text = new StringBuilder(Header).Append("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n");
        if (@namespace is not null)
        {
            text.Append($"namespace: {@namespace}\n");
        }

        text.Append("resources:\n");
        foreach (var resource in resources)
        {
            text.Append($"- {resource}\n");
        }

        if (@namespace is not null)
        {
            text.Append(_images.Kustomize(app.Services.Select(s => s.Name), canaries));
        }

        return text.ToString();
    }

    private static string Yaml(params IKubernetesObject[] objects) =>
        Header + string.Join("---\n", objects.Select(o => KubernetesYaml.Serialize(o).TrimEnd('\n') + "\n"));

    private string Readme()
    {
        var stagingParameters = ParametersOf(app.DataServers.Select(s => s.PasswordParameter));
        var productionParameters = ParametersOf([]);
        var text = new StringBuilder(
            """
            # Kubernetes

            Written by the AppHost from the same app model as `aspire-manifest.json`:

            ```bash
            dotnet run --project AppHost -- --operation publish --step publish-kubernetes --output-path ../deploy/kubernetes
            ```

            `base/` holds each service's ConfigMap, Deployment, Service, PodDisruptionBudget and NetworkPolicy. `overlays/staging`
            adds PostgreSQL and Redis as StatefulSets and scales each service from 1 to 3 replicas; `overlays/production` expects
            external PostgreSQL and Redis, scales each service between its production floor and ceiling, and gives each a canary
            Deployment with no replicas for canary and blue-green rollouts. See
            `docs/operations/kubernetes.md` for the design and the checks.

            ## Images

            """);
        text.Append($"\nThese files pin every stable Deployment to `{_images.Registry}/<service>:{_images.Tag}` and production's canaries to\n")
            .Append($"`{_images.Registry}/<service>:{_images.CanaryTag}`. Build and push one image per service with the tag to run (the SDK's\n")
            .Append("container support: no Dockerfile, a non-root user), then publish again with the tags (`latest` is refused, and so is\na canary tag equal to the stable one):\n\n```bash\n");
        foreach (var service in app.Services)
        {
            text.Append($"dotnet publish services/{service.Name} -c Release -t:PublishContainer -p:ContainerRegistry={_images.Registry.Split('/')[0]} -p:ContainerRepository={RepositoryPath()}{service.Name} -p:ContainerImageTag=$TAG\n");
        }

        text.Append("dotnet run --project AppHost -- --operation publish --step publish-kubernetes --output-path ../deploy/kubernetes \\\n")
            .Append("  --Kubernetes:ImageTag=$STABLE --Kubernetes:CanaryImageTag=$TAG")
            .Append("\n```\n\n`$STABLE` is the tag production runs now; promoting the canary is publishing with `--Kubernetes:ImageTag=$TAG`\n")
            .Append("(`docs/operations/rollouts.md`).\n\n## Secrets\n\nNo secret value is in these files. Create the two Secrets the workloads read before applying an overlay.\n\nStaging (the passwords are new; the connection strings name the StatefulSets):\n\n```bash\nkubectl apply -f deploy/kubernetes/overlays/staging/namespace.yaml\n");
        text.Append(string.Concat(app.DataServers.Select(s => $"{Variable(s.PasswordParameter)}=$(openssl rand -hex 24)\n")));
        text.Append(CreateSecret("platform-staging", KubernetesAppModel.ParametersSecret, stagingParameters.Select(p => (p, Generated(p)))));
        text.Append(CreateSecret("platform-staging", KubernetesAppModel.ConnectionsSecret, Connections().Select(c => (c.Name, $"\"{c.Staging}\""))));
        text.Append("kubectl apply -k deploy/kubernetes/overlays/staging\n```\n\nProduction (your servers' connection strings):\n\n```bash\nkubectl apply -f deploy/kubernetes/overlays/production/namespace.yaml\n");
        text.Append(CreateSecret("platform", KubernetesAppModel.ParametersSecret, productionParameters.Select(p => (p, Generated(p)))));
        text.Append(CreateSecret("platform", KubernetesAppModel.ConnectionsSecret, Connections().Select(c => (c.Name, $"\"{c.Production}\""))));
        text.Append("kubectl apply -k deploy/kubernetes/overlays/production\n```\n");
        return text.ToString();

        string Generated(string parameter) => app.DataServers.Any(s => s.PasswordParameter == parameter) ? $"${Variable(parameter)}" : "$(openssl rand -hex 32)";
    }

    private string RepositoryPath() => _images.Registry.Contains('/') ? _images.Registry[(_images.Registry.IndexOf('/') + 1)..] + "/" : "";

    /// <summary>The parameters the services read, and the data servers' passwords where they run in the cluster.</summary>
    private List<string> ParametersOf(IEnumerable<string> dataServerPasswords) =>
        app.Services.SelectMany(s => s.Secrets).Where(s => s.Secret == KubernetesAppModel.ParametersSecret).Select(s => s.Key)
            .Concat(dataServerPasswords).Distinct().ToList();

    private IEnumerable<(string Name, string Staging, string Production)> Connections()
    {
        foreach (var name in app.Services.SelectMany(s => s.Secrets).Where(s => s.Secret == KubernetesAppModel.ConnectionsSecret).Select(s => s.Key).Distinct())
        {
            var server = app.DataServers.FirstOrDefault(s => s.Databases.ContainsKey(name)) ?? app.DataServers.Single(s => s.Name == name);
            yield return server.Databases.TryGetValue(name, out var database)
                ? (name, $"Host={server.Name};Port={server.Port};Username=postgres;Password=${Variable(server.PasswordParameter)};Database={database}",
                    $"Host=<host>;Port=5432;Username=<user>;Password=<password>;Database={database};SSL Mode=Require")
                : (name, $"{server.Name}:{server.Port},password=${Variable(server.PasswordParameter)}", "<host>:6380,password=<password>,ssl=true");
        }
    }

    private static string CreateSecret(string @namespace, string secret, IEnumerable<(string Key, string Value)> values) =>
        $"kubectl -n {@namespace} create secret generic {secret}"
        + string.Concat(values.Select(v => $" \\\n  --from-literal={v.Key}={v.Value}")) + "\n";

    private static string Variable(string parameter) => parameter.Replace('-', '_').ToUpperInvariant();
}
