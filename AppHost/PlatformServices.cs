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
        where TProject : IProjectMetadata, new()
    {
        var service = builder.AddProject<TProject>(name)
            .WithReplicas(Math.Max(1, builder.Configuration.GetValue($"Replicas:{name}", 1)))
            .WithHttpHealthCheck("/health")
            .WithReferenceEnvironment(ReferenceEnvironmentInjectionFlags.ConnectionString | ReferenceEnvironmentInjectionFlags.ServiceDiscovery);
        if (builder.ExecutionContext.IsRunMode)
        {
            // The AppHost's build has built the service: run its assembly rather than `dotnet run`, which would evaluate
            // the project again for every process (seconds of CPU each on a small machine).
            var projectDirectory = Path.GetDirectoryName(new TProject().ProjectPath)!;
            var assembly = Path.Combine(projectDirectory, "bin", BuildConfiguration, "net10.0", $"{Path.GetFileNameWithoutExtension(new TProject().ProjectPath)}.dll");
            service.WithAnnotation(new ExecutableAnnotation { Command = "dotnet", WorkingDirectory = projectDirectory }).WithArgs(assembly);
        }

        return service;
    }

    private static string BuildConfiguration =>
        typeof(PlatformServices).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyConfigurationAttribute), false)
            .OfType<System.Reflection.AssemblyConfigurationAttribute>().Single().Configuration;
}
