using Aspire.Hosting.ApplicationModel;

namespace Platform.Hosting.Kubernetes;

/// <summary>How a service runs as a Kubernetes Deployment: its resources, how far it scales, and what it may reach outside the app model.</summary>
public sealed class KubernetesWorkloadAnnotation : IResourceAnnotation
{
    public string CpuRequest { get; set; } = "100m";

    public string MemoryRequest { get; set; } = "192Mi";

    public string CpuLimit { get; set; } = "1";

    public string MemoryLimit { get; set; } = "512Mi";

    /// <summary>Production's floor; staging runs one replica.</summary>
    public int MinReplicas { get; set; } = 2;

    public int MaxReplicas { get; set; } = 10;

    /// <summary>
    /// Whether the service calls addresses outside the cluster (model providers, HTTP tools, webhooks). Its NetworkPolicy
    /// then allows egress to public addresses only, the ranges the services' own SSRF guard also refuses left out.
    /// </summary>
    public bool ReachesInternet { get; set; }

    /// <summary>Whether a client must keep reaching the same pod (a Blazor Server circuit lives in one); the Service then keeps each client on one.</summary>
    public bool StickySessions { get; set; }
}
