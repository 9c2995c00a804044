using k8s;
using k8s.Models;

namespace Platform.Hosting.Kubernetes;

/// <summary>The Kubernetes objects of the platform, built from <see cref="KubernetesAppModel"/>.</summary>
internal static class KubernetesObjects
{
    public const string PartOf = "platform";
    private const string NameLabel = "app.kubernetes.io/name";
    private const string PartOfLabel = "app.kubernetes.io/part-of";
    private const string TrackLabel = "track";
    private const string StableTrack = "stable";
    private const string CanaryTrack = "canary";
    private const int AppUser = 1654; // the non-root user of the .NET images that `dotnet publish -t:PublishContainer` builds
    private const int DataServerUser = 999; // postgres and redis in their official images

    // Private, link-local and shared ranges: what the services' SSRF guard refuses, so egress to them is never opened.
    private static readonly string[] NonPublicRanges = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10", "127.0.0.0/8"];

    public static IEnumerable<IKubernetesObject> ForService(KubernetesService service, IReadOnlyList<DataServer> dataServers, string monitoringNamespace, IEnumerable<string> reachedBy)
    {
        yield return new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = Metadata($"{service.Name}-settings", service.Name, "service"),
            Data = service.Settings.ToDictionary(s => s.Key, s => s.Value),
        };
        yield return Deployment(service, StableTrack);
        yield return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Metadata(service.Name, service.Name, "service"),
            Spec = new V1ServiceSpec
            {
                Selector = Selector(service.Name),
                SessionAffinity = service.Workload.StickySessions ? "ClientIP" : null,
                Ports = [new V1ServicePort { Name = "http", Port = 80, TargetPort = "http", Protocol = "TCP" }],
            },
        };
        yield return new V1PodDisruptionBudget
        {
            ApiVersion = "policy/v1",
            Kind = "PodDisruptionBudget",
            Metadata = Metadata(service.Name, service.Name, "service"),
            Spec = new V1PodDisruptionBudgetSpec { MaxUnavailable = 1, Selector = new V1LabelSelector { MatchLabels = Selector(service.Name) } },
        };
        yield return ServicePolicy(service, dataServers, monitoringNamespace, reachedBy.ToList());
    }

    public static V2HorizontalPodAutoscaler Autoscaler(KubernetesService service, int minReplicas, int maxReplicas) => new()
    {
        ApiVersion = "autoscaling/v2",
        Kind = "HorizontalPodAutoscaler",
        Metadata = Metadata(service.Name, service.Name, "service"),
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = service.Name },
            MinReplicas = minReplicas,
            MaxReplicas = maxReplicas,
            Metrics =
            [
                Utilization("cpu", 70),
                Utilization("memory", 80),
            ],
        },
    };

    /// <summary>Nothing reaches a platform pod, and a platform pod reaches nothing, unless a policy of its own allows it.</summary>
    public static V1NetworkPolicy DenyByDefault() => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Metadata = new V1ObjectMeta { Name = "default-deny", Labels = new Dictionary<string, string> { [PartOfLabel] = PartOf } },
        Spec = new V1NetworkPolicySpec
        {
            PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [PartOfLabel] = PartOf } },
            PolicyTypes = ["Ingress", "Egress"],
        },
    };

    public static V1Namespace Namespace(string name) => new()
    {
        ApiVersion = "v1",
        Kind = "Namespace",
        Metadata = new V1ObjectMeta
        {
            Name = name,
            // Every workload here meets the restricted Pod Security Standard; the namespace enforces it.
            Labels = new Dictionary<string, string> { [PartOfLabel] = PartOf, ["pod-security.kubernetes.io/enforce"] = "restricted" },
        },
    };

    /// <summary>Production's data servers live outside the cluster: the pods that use them may reach the servers' ports at any address (narrow it to the servers' own).</summary>
    public static V1NetworkPolicy ExternalDataServers(IReadOnlyList<KubernetesService> services, IReadOnlyList<DataServer> servers) => new()
    {
        ApiVersion = "networking.k8s.io/v1",
        Kind = "NetworkPolicy",
        Metadata = new V1ObjectMeta { Name = "external-data-servers", Labels = new Dictionary<string, string> { [PartOfLabel] = PartOf } },
        Spec = new V1NetworkPolicySpec
        {
            PodSelector = new V1LabelSelector
            {
                MatchExpressions = [new V1LabelSelectorRequirement { Key = NameLabel, OperatorProperty = "In", Values = services.Where(s => s.DataServers.Count > 0).Select(s => s.Name).ToList() }],
            },
            PolicyTypes = ["Egress"],
            Egress = servers.Select(server => new V1NetworkPolicyEgressRule
            {
                To = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "0.0.0.0/0" } }],
                Ports = [new V1NetworkPolicyPort { Port = server.Port, Protocol = "TCP" }],
            }).ToList(),
        },
    };

    public static IEnumerable<IKubernetesObject> ForDataServer(DataServer server, IEnumerable<string> reachedBy)
    {
        var component = server.Kind == DataServerKind.Postgres ? "database" : "cache";
        var dataPath = server.Kind == DataServerKind.Postgres ? "/var/lib/postgresql" : "/data";
        if (server.Kind == DataServerKind.Postgres)
        {
            // The official image runs these on a fresh data folder: the databases Aspire would create in run mode.
            yield return new V1ConfigMap
            {
                ApiVersion = "v1",
                Kind = "ConfigMap",
                Metadata = Metadata($"{server.Name}-init", server.Name, component),
                Data = new Dictionary<string, string>
                {
                    ["create-databases.sql"] = string.Concat(server.Databases.Values.Select(database => $"CREATE DATABASE \"{database}\";\n")),
                },
            };
        }

        yield return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = Metadata(server.Name, server.Name, component),
            Spec = new V1ServiceSpec
            {
                ClusterIP = "None",
                Selector = Selector(server.Name),
                Ports = [new V1ServicePort { Name = "tcp", Port = server.Port, TargetPort = "tcp", Protocol = "TCP" }],
            },
        };

        var ready = server.Kind == DataServerKind.Postgres
            ? new V1Probe { Exec = new V1ExecAction { Command = ["pg_isready", "-U", "postgres", "-h", "127.0.0.1"] }, PeriodSeconds = 10 }
            : new V1Probe { TcpSocket = new V1TCPSocketAction { Port = "tcp" }, PeriodSeconds = 10 };
        var container = new V1Container
        {
            Name = server.Name,
            Image = server.Image,
            Ports = [new V1ContainerPort { Name = "tcp", ContainerPort = server.Port, Protocol = "TCP" }],
            Env = server.Kind == DataServerKind.Postgres
                ? [new V1EnvVar { Name = "POSTGRES_USER", Value = "postgres" }, SecretVariable("POSTGRES_PASSWORD", KubernetesAppModel.ParametersSecret, server.PasswordParameter)]
                : [SecretVariable("REDIS_PASSWORD", KubernetesAppModel.ParametersSecret, server.PasswordParameter)],
            Args = server.Kind == DataServerKind.Redis ? ["redis-server", "--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes", "--dir", dataPath] : null,
            Resources = Resources("250m", "256Mi", "2", "1Gi"),
            ReadinessProbe = ready,
            LivenessProbe = ready,
            SecurityContext = ContainerSecurity(),
            VolumeMounts =
            [
                new V1VolumeMount { Name = "data", MountPath = dataPath },
                new V1VolumeMount { Name = "tmp", MountPath = "/tmp" },
                .. server.Kind == DataServerKind.Postgres
                    ? new[] { new V1VolumeMount { Name = "run", MountPath = "/var/run/postgresql" }, new V1VolumeMount { Name = "init", MountPath = "/docker-entrypoint-initdb.d", ReadOnlyProperty = true } }
                    : [],
            ],
        };
        yield return new V1StatefulSet
        {
            ApiVersion = "apps/v1",
            Kind = "StatefulSet",
            Metadata = Metadata(server.Name, server.Name, component),
            Spec = new V1StatefulSetSpec
            {
                ServiceName = server.Name,
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = Selector(server.Name) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = Metadata(null, server.Name, component),
                    Spec = new V1PodSpec
                    {
                        AutomountServiceAccountToken = false,
                        SecurityContext = PodSecurity(DataServerUser),
                        Containers = [container],
                        Volumes =
                        [
                            new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
                            .. server.Kind == DataServerKind.Postgres
                                ? new[]
                                {
                                    new V1Volume { Name = "run", EmptyDir = new V1EmptyDirVolumeSource() },
                                    new V1Volume { Name = "init", ConfigMap = new V1ConfigMapVolumeSource { Name = $"{server.Name}-init" } },
                                }
                                : [],
                        ],
                    },
                },
                VolumeClaimTemplates =
                [
                    new V1PersistentVolumeClaim
                    {
                        Metadata = new V1ObjectMeta { Name = "data" },
                        Spec = new V1PersistentVolumeClaimSpec
                        {
                            AccessModes = ["ReadWriteOnce"],
                            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("10Gi") } },
                        },
                    },
                ],
            },
        };
        yield return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Metadata(server.Name, server.Name, component),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = Selector(server.Name) },
                PolicyTypes = ["Ingress", "Egress"],
                Ingress = [new V1NetworkPolicyIngressRule { FromProperty = reachedBy.Select(PodPeer).ToList(), Ports = [Port(server.Port)] }],
            },
        };
    }

    /// <summary>
    /// The service's canary: the same pods on the <c>canary</c> track with their own image placeholder, which production
    /// pins to another tag than the stable track's, and no replica until an operator starts one. The Service selects both tracks, so its share of requests is its share of the ready pods; switching the
    /// Service's selector to one track makes it blue-green (docs/operations/rollouts.md).
    /// </summary>
    public static V1Deployment Canary(KubernetesService service) => Deployment(service, CanaryTrack);

    private static V1Deployment Deployment(KubernetesService service, string track)
    {
        var pods = new Dictionary<string, string>(Selector(service.Name)) { [TrackLabel] = track };
        var health = new V1HTTPGetAction { Path = "/health", Port = "http" };
        var alive = new V1HTTPGetAction { Path = "/alive", Port = "http" };
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = Metadata(track == StableTrack ? service.Name : $"{service.Name}-{track}", service.Name, "service"),
            Spec = new V1DeploymentSpec
            {
                // No replica count on the stable track: its HorizontalPodAutoscaler owns it, so an apply never scales a busy
                // service down. The canary has none until an operator starts one.
                Replicas = track == StableTrack ? null : 0,
                Selector = new V1LabelSelector { MatchLabels = pods },
                Strategy = new V1DeploymentStrategy { Type = "RollingUpdate", RollingUpdate = new V1RollingUpdateDeployment { MaxUnavailable = 0, MaxSurge = 1 } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(Metadata(null, service.Name, "service").Labels) { [TrackLabel] = track } },
                    Spec = new V1PodSpec
                    {
                        AutomountServiceAccountToken = false,
                        SecurityContext = PodSecurity(AppUser),
                        TerminationGracePeriodSeconds = 30,
                        TopologySpreadConstraints =
                        [
                            new V1TopologySpreadConstraint
                            {
                                MaxSkew = 1,
                                TopologyKey = "kubernetes.io/hostname",
                                WhenUnsatisfiable = "ScheduleAnyway",
                                LabelSelector = new V1LabelSelector { MatchLabels = Selector(service.Name) },
                            },
                        ],
                        Containers =
                        [
                            new V1Container
                            {
                                Name = service.Name,
                                Image = KubernetesImages.Placeholder(service.Name, canary: track == CanaryTrack),
                                Ports = [new V1ContainerPort { Name = "http", ContainerPort = KubernetesAppModel.ServicePort, Protocol = "TCP" }],
                                EnvFrom = [new V1EnvFromSource { ConfigMapRef = new V1ConfigMapEnvSource { Name = $"{service.Name}-settings" } }],
                                Env = service.Secrets.Select(s => SecretVariable(s.Variable, s.Secret, s.Key)).ToList(),
                                Resources = Resources(service.Workload.CpuRequest, service.Workload.MemoryRequest, service.Workload.CpuLimit, service.Workload.MemoryLimit),
                                StartupProbe = new V1Probe { HttpGet = alive, PeriodSeconds = 2, FailureThreshold = 60 },
                                LivenessProbe = new V1Probe { HttpGet = alive, PeriodSeconds = 10, FailureThreshold = 3 },
                                ReadinessProbe = new V1Probe { HttpGet = health, PeriodSeconds = 5, FailureThreshold = 3 },
                                SecurityContext = ContainerSecurity(),
                                VolumeMounts = [new V1VolumeMount { Name = "tmp", MountPath = "/tmp" }],
                            },
                        ],
                        Volumes = [new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() }],
                    },
                },
            },
        };
    }

    /// <summary>In: from the services that reference this one (anyone for an external endpoint) and from Prometheus. Out: what it references.</summary>
    private static V1NetworkPolicy ServicePolicy(KubernetesService service, IReadOnlyList<DataServer> dataServers, string monitoringNamespace, IReadOnlyList<string> reachedBy)
    {
        var http = Port(KubernetesAppModel.ServicePort);
        var ingress = new List<V1NetworkPolicyIngressRule>
        {
            new() { FromProperty = [new V1NetworkPolicyPeer { NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = monitoringNamespace } } }], Ports = [http] },
        };
        if (service.External)
        {
            ingress.Add(new V1NetworkPolicyIngressRule { Ports = [http] });
        }
        else if (reachedBy.Count > 0)
        {
            ingress.Add(new V1NetworkPolicyIngressRule { FromProperty = reachedBy.Select(PodPeer).ToList(), Ports = [http] });
        }

        var egress = new List<V1NetworkPolicyEgressRule>
        {
            new()
            {
                To = [new V1NetworkPolicyPeer
                {
                    NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = "kube-system" } },
                    PodSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["k8s-app"] = "kube-dns" } },
                }],
                Ports = [new V1NetworkPolicyPort { Port = 53, Protocol = "UDP" }, new V1NetworkPolicyPort { Port = 53, Protocol = "TCP" }],
            },
        };
        egress.AddRange(service.Services.Select(name => new V1NetworkPolicyEgressRule { To = [PodPeer(name)], Ports = [http] }));
        egress.AddRange(dataServers.Where(server => service.DataServers.Contains(server.Name)).Select(server => new V1NetworkPolicyEgressRule { To = [PodPeer(server.Name)], Ports = [Port(server.Port)] }));
        if (service.Workload.ReachesInternet)
        {
            egress.Add(new V1NetworkPolicyEgressRule { To = [new V1NetworkPolicyPeer { IpBlock = new V1IPBlock { Cidr = "0.0.0.0/0", Except = NonPublicRanges } }] });
        }

        return new V1NetworkPolicy
        {
            ApiVersion = "networking.k8s.io/v1",
            Kind = "NetworkPolicy",
            Metadata = Metadata(service.Name, service.Name, "service"),
            Spec = new V1NetworkPolicySpec
            {
                PodSelector = new V1LabelSelector { MatchLabels = Selector(service.Name) },
                PolicyTypes = ["Ingress", "Egress"],
                Ingress = ingress,
                Egress = egress,
            },
        };
    }

    private static V1NetworkPolicyPeer PodPeer(string name) => new() { PodSelector = new V1LabelSelector { MatchLabels = Selector(name) } };

    private static V1NetworkPolicyPort Port(int port) => new() { Port = port, Protocol = "TCP" };

    private static V1EnvVar SecretVariable(string name, string secret, string key) =>
        new() { Name = name, ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = key } } };

    private static V2MetricSpec Utilization(string resource, int percent) => new()
    {
        Type = "Resource",
        Resource = new V2ResourceMetricSource { Name = resource, Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = percent } },
    };

    private static V1ResourceRequirements Resources(string cpuRequest, string memoryRequest, string cpuLimit, string memoryLimit) => new()
    {
        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuRequest), ["memory"] = new(memoryRequest) },
        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new(cpuLimit), ["memory"] = new(memoryLimit) },
    };

    private static V1PodSecurityContext PodSecurity(int user) => new()
    {
        RunAsNonRoot = true,
        RunAsUser = user,
        RunAsGroup = user,
        FsGroup = user,
        SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" },
    };

    private static V1SecurityContext ContainerSecurity() => new()
    {
        AllowPrivilegeEscalation = false,
        ReadOnlyRootFilesystem = true,
        Capabilities = new V1Capabilities { Drop = ["ALL"] },
    };

    private static Dictionary<string, string> Selector(string name) => new() { [NameLabel] = name, [PartOfLabel] = PartOf };

    private static V1ObjectMeta Metadata(string? name, string app, string component) => new()
    {
        Name = name,
        Labels = new Dictionary<string, string> { [NameLabel] = app, [PartOfLabel] = PartOf, ["app.kubernetes.io/component"] = component },
    };
}
