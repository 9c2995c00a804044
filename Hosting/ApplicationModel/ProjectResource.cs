namespace Platform.Hosting.ApplicationModel;

/// <summary>Generated for each project the AppHost references, like Aspire's <c>Projects.*</c> classes.</summary>
public interface IProjectMetadata
{
    string ProjectPath { get; }

    string AssemblyPath { get; }
}

public sealed class ProjectResource(string name, IProjectMetadata metadata) : Resource(name)
{
    public IProjectMetadata Metadata { get; } = metadata;

    public List<IResourceWithConnectionString> ConnectionReferences { get; } = [];

    public List<ProjectResource> ServiceReferences { get; } = [];

    /// <summary>Extra environment, as literal values or parameters, in the order added.</summary>
    public List<(string Name, object Value)> Environment { get; } = [];

    public bool ExternalHttpEndpoints { get; set; }

    /// <summary>The local HTTP port in run mode; null picks a free one.</summary>
    public int? HttpPort { get; set; }

    /// <summary>The path the runner polls for readiness.</summary>
    public string HealthCheckPath { get; set; } = "/health";
}
