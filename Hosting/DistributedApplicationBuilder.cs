using Microsoft.Extensions.Configuration;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting;

public sealed class DistributedApplicationBuilder
{
    private readonly List<Resource> _resources = [];

    internal DistributedApplicationBuilder(string[] args, DistributedApplicationOptions options)
    {
        var (context, configurationArgs) = DistributedApplicationExecutionContext.Parse(args);
        ExecutionContext = context;
        Options = options;
        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Development";
        Configuration = new ConfigurationManager();
        Configuration
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(configurationArgs);
    }

    public ConfigurationManager Configuration { get; }

    public DistributedApplicationExecutionContext ExecutionContext { get; }

    public DistributedApplicationOptions Options { get; }

    public IReadOnlyList<Resource> Resources => _resources;

    public IResourceBuilder<T> AddResource<T>(T resource) where T : Resource
    {
        if (_resources.Any(r => string.Equals(r.Name, resource.Name, StringComparison.OrdinalIgnoreCase)))
        {
            throw new DistributedApplicationException($"A resource named '{resource.Name}' already exists.");
        }

        _resources.Add(resource);
        return new ResourceBuilder<T>(resource, this);
    }

    public DistributedApplication Build() => new(this);
}

/// <summary>Knobs for hosts other than the AppHost itself, such as tests.</summary>
public sealed class DistributedApplicationOptions
{
    /// <summary>Where console lines go (resource table, prefixed service logs); the console when null.</summary>
    public TextWriter? Output { get; init; }
}
