using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;

namespace Platform.Hosting.Kubernetes;

/// <summary>A service as Kubernetes runs it: plain settings for its ConfigMap, secret values by reference, and the resources it reaches.</summary>
internal sealed record KubernetesService(
    string Name,
    KubernetesWorkloadAnnotation Workload,
    bool External,
    IReadOnlyList<KeyValuePair<string, string>> Settings,
    IReadOnlyList<SecretReference> Secrets,
    IReadOnlyList<string> Services,
    IReadOnlyList<string> DataServers);

/// <summary>An environment variable read from a key of a Secret the operator creates.</summary>
internal sealed record SecretReference(string Variable, string Secret, string Key);

internal enum DataServerKind
{
    Postgres,
    Redis,
}

/// <summary>A data server: a StatefulSet in staging, an external server in production. Its databases by resource name.</summary>
internal sealed record DataServer(string Name, DataServerKind Kind, string Image, string PasswordParameter, IReadOnlyDictionary<string, string> Databases)
{
    public int Port => Kind == DataServerKind.Postgres ? 5432 : 6379;
}

/// <summary>The app model read the way the manifest publisher reads it: each service's environment, evaluated in publish mode.</summary>
internal sealed record KubernetesAppModel(IReadOnlyList<KubernetesService> Services, IReadOnlyList<DataServer> DataServers)
{
    public const int ServicePort = 8080;
    public const string ParametersSecret = "platform-parameters";
    public const string ConnectionsSecret = "platform-connections";

    public static async Task<KubernetesAppModel> ReadAsync(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        var dataServers = model.Resources.Select(AsDataServer).OfType<DataServer>().ToList();
        var services = new List<KubernetesService>();
        foreach (var project in model.Resources.OfType<ProjectResource>())
        {
            services.Add(await ReadServiceAsync(project, executionContext, cancellationToken));
        }

        return new KubernetesAppModel(services, dataServers);
    }

    private static async Task<KubernetesService> ReadServiceAsync(ProjectResource project, DistributedApplicationExecutionContext executionContext, CancellationToken cancellationToken)
    {
        var environment = new Dictionary<string, object>();
        var context = new EnvironmentCallbackContext(executionContext, project, environment, cancellationToken);
        foreach (var callback in project.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var settings = new List<KeyValuePair<string, string>> { new("OTEL_SERVICE_NAME", project.Name) };
        var secrets = new List<SecretReference>();
        var reachedServices = new List<string>();
        var reachedDataServers = new List<string>();
        foreach (var (variable, value) in environment)
        {
            switch (Resolve(value))
            {
                case string text:
                    settings.Add(new(variable, text));
                    break;
                case SecretReference secret:
                    secrets.Add(secret with { Variable = variable });
                    break;
                case null:
                    break;
            }
        }

        return new KubernetesService(
            project.Name,
            project.Annotations.OfType<KubernetesWorkloadAnnotation>().LastOrDefault() ?? new KubernetesWorkloadAnnotation(),
            project.Annotations.OfType<EndpointAnnotation>().Any(e => e.IsExternal),
            settings,
            secrets,
            reachedServices.Distinct().ToList(),
            reachedDataServers.Distinct().ToList());

        // A literal, a secret by reference, or null for what the cluster does not use; records the resources it reaches.
        object? Resolve(object value)
        {
            switch (value)
            {
                case string text:
                    return text;
                case EndpointReferenceExpression { Property: EndpointProperty.TargetPort }:
                    return ServicePort.ToString(System.Globalization.CultureInfo.InvariantCulture);
                case EndpointReference { IsHttps: true }:
                    // Inside the cluster services speak plain HTTP to each other (TLS ends at the ingress or the mesh).
                    return null;
                case EndpointReference endpoint:
                    reachedServices.Add(endpoint.Resource.Name);
                    return $"http://{endpoint.Resource.Name}";
                case ConnectionStringReference connection:
                    reachedDataServers.Add(ServerOf(connection.Resource).Name);
                    return new SecretReference("", ConnectionsSecret, connection.Resource.Name);
                case ParameterResource parameter:
                    return new SecretReference("", ParametersSecret, parameter.Name);
                case ReferenceExpression { IsConditional: false, Format: "{0}", ValueProviders: [var single] }:
                    return Resolve(single);
                case ReferenceExpression { IsConditional: false } expression when expression.ValueProviders.Select(Resolve).ToList() is var parts && parts.All(p => p is string):
                    return string.Format(System.Globalization.CultureInfo.InvariantCulture, expression.Format, [.. parts]);
                default:
                    throw new DistributedApplicationException(
                        $"{project.Name}'s environment holds a {value.GetType().Name} ({(value as IManifestExpressionProvider)?.ValueExpression}), which the Kubernetes publisher does not know how to write.");
            }
        }
    }

    private static IResource ServerOf(IResource resource) => resource is IResourceWithParent child ? child.Parent : resource;

    private static DataServer? AsDataServer(IResource resource) => resource switch
    {
        PostgresServerResource postgres => new DataServer(postgres.Name, DataServerKind.Postgres, ImageOf(postgres), postgres.PasswordParameter.Name,
            postgres.Databases),
        RedisResource redis => new DataServer(redis.Name, DataServerKind.Redis, ImageOf(redis),
            redis.PasswordParameter?.Name ?? throw new DistributedApplicationException($"{redis.Name} has no password; the publisher writes only servers that require one."),
            new Dictionary<string, string>()),
        _ => null,
    };

    private static string ImageOf(IResource container)
    {
        var image = container.Annotations.OfType<ContainerImageAnnotation>().Last();
        return $"{(image.Registry is null ? "" : image.Registry + "/")}{image.Image}:{image.Tag}";
    }
}
