using Microsoft.Extensions.Configuration;

namespace Platform.AppHost;

internal static class PlatformServices
{
    /// <summary>
    /// A Platform service: <c>Replicas:&lt;name&gt;</c> processes (one by default) behind DCP's proxy, healthy when its
    /// <c>/health</c> answers, and given connection strings and service endpoints only; the services read nothing else,
    /// and the manifest stays in the form azd and aspirate read.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name)
            .WithReplicas(Math.Max(1, builder.Configuration.GetValue($"Replicas:{name}", 1)))
            .WithHttpHealthCheck("/health")
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery);
}
