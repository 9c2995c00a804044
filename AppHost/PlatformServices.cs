using Microsoft.Extensions.Configuration;

namespace Platform.AppHost;

internal static class PlatformServices
{
    /// <summary>
    /// A Platform service: <c>Replicas:&lt;name&gt;</c> processes (one by default), healthy when its <c>/health</c>
    /// answers, and given connection strings and service endpoints only; the services read nothing else, and the
    /// manifest stays in the form azd and aspirate read.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        var replicas = Math.Max(1, builder.Configuration.GetValue($"Replicas:{name}", 1));
        var service = builder.AddProject<TProject>(name)
            .WithReplicas(replicas)
            .WithHttpHealthCheck("/health")
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery);
        if (builder.ExecutionContext.IsRunMode)
        {
            // Several replicas share one address only through DCP's proxy; a single one is called directly, as a
            // Kubernetes Service's kernel-level forwarding does in production, sparing each call a userspace relay.
            // Aspire's test host randomises the ports of proxied endpoints only, so there a direct one takes a free
            // port from DCP rather than the launch profile's, and two platforms can run side by side.
            service.WithEndpoint("http", endpoint =>
            {
                endpoint.IsProxied = replicas > 1;
                if (!endpoint.IsProxied)
                {
                    endpoint.Port = builder.Configuration.GetValue<bool>("DcpPublisher:RandomizePorts") ? null : endpoint.Port;
                    endpoint.TargetPort = endpoint.Port;
                }
            });

            // The AppHost's build has built the service: run its assembly rather than `dotnet run`, which would evaluate
            // the project again for every process (seconds of CPU each on a small machine).
            var projectDirectory = Path.GetDirectoryName(new TProject().ProjectPath)!;
            var assembly = Path.Combine(projectDirectory, "bin", BuildConfiguration, "net10.0", $"{Path.GetFileNameWithoutExtension(new TProject().ProjectPath)}.dll");
            service.WithAnnotation(new ExecutableAnnotation { Command = "dotnet", WorkingDirectory = projectDirectory }).WithArgs(assembly);
        }

        return service;
    }

    /// <summary>
    /// The key a service encrypts stored secrets with, and while a rotation is under way the one it replaces
    /// (<c>Parameters:secrets-previous-key</c>), still read until the service has re-encrypted every value.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithSecretsKey(this IResourceBuilder<ProjectResource> service, IResourceBuilder<ParameterResource> secretsKey)
    {
        service.WithEnvironment("Secrets__Key", secretsKey);
        if (!string.IsNullOrEmpty(service.ApplicationBuilder.Configuration["Parameters:secrets-previous-key"]))
        {
            var previous = service.ApplicationBuilder.Resources.OfType<ParameterResource>().FirstOrDefault(p => p.Name == "secrets-previous-key")
                ?? service.ApplicationBuilder.AddParameter("secrets-previous-key", secret: true).Resource;
            service.WithEnvironment("Secrets__PreviousKeys__0", previous);
        }

        return service;
    }

    private static string BuildConfiguration =>
        typeof(PlatformServices).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().Single().Configuration;
}
