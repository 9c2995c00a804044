using System.Text.Json;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting;

/// <summary>The Aspire-shaped API an AppHost's Program.cs is written in.</summary>
public static class ResourceBuilderExtensions
{
    /// <summary>A parameter whose value comes from <c>Parameters:{name}</c>.</summary>
    public static IResourceBuilder<ParameterResource> AddParameter(this DistributedApplicationBuilder builder, string name, bool secret = false) =>
        builder.AddResource(new ParameterResource(name, secret, generate: null));

    /// <summary>A secret parameter generated once, kept in the state folder, and overridable through configuration.</summary>
    public static IResourceBuilder<ParameterResource> AddGeneratedParameter(
        this DistributedApplicationBuilder builder, string name, GenerateParameterDefault generate) =>
        builder.AddResource(new ParameterResource(name, secret: true, generate));

    public static IResourceBuilder<PostgresServerResource> AddPostgres(this DistributedApplicationBuilder builder, string name, int? port = null)
    {
        var password = builder.AddGeneratedParameter($"{name}-password", new GenerateParameterDefault());
        return builder.AddResource(new PostgresServerResource(name, password.Resource, ConfiguredPort(builder, name, port)));
    }

    public static IResourceBuilder<PostgresDatabaseResource> AddDatabase(this IResourceBuilder<PostgresServerResource> server, string name)
    {
        var database = new PostgresDatabaseResource(name, server.Resource);
        server.Resource.Databases.Add(database);
        return server.ApplicationBuilder.AddResource(database);
    }

    public static IResourceBuilder<RedisResource> AddRedis(this DistributedApplicationBuilder builder, string name, int? port = null)
    {
        // Commas separate options in StackExchange.Redis connection strings, so Redis passwords have no specials.
        var password = builder.AddGeneratedParameter($"{name}-password", new GenerateParameterDefault(Special: false));
        return builder.AddResource(new RedisResource(name, password.Resource, ConfiguredPort(builder, name, port)));
    }

    /// <summary>Adds a .NET project; its local port comes from <c>Ports:{name}</c>, else its launch profile.</summary>
    public static IResourceBuilder<ProjectResource> AddProject<TProject>(this DistributedApplicationBuilder builder, string name)
        where TProject : IProjectMetadata, new()
    {
        var metadata = new TProject();
        var project = new ProjectResource(name, metadata)
        {
            HttpPort = ConfiguredPort(builder, name, LaunchProfilePort(metadata.ProjectPath)),
        };
        return builder.AddResource(project);
    }

    public static IResourceBuilder<ProjectResource> WithReference<TSource>(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<TSource> source)
        where TSource : Resource, IResourceWithConnectionString
    {
        builder.Resource.ConnectionReferences.Add(source.Resource);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithReference(this IResourceBuilder<ProjectResource> builder, IResourceBuilder<ProjectResource> service)
    {
        builder.Resource.ServiceReferences.Add(service.Resource);
        return builder;
    }

    public static IResourceBuilder<T> WaitFor<T>(this IResourceBuilder<T> builder, IResourceBuilder<Resource> dependency) where T : Resource
    {
        builder.Resource.WaitsFor.Add(dependency.Resource);
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(this IResourceBuilder<ProjectResource> builder, string name, string value)
    {
        builder.Resource.Environment.Add((name, value));
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithEnvironment(
        this IResourceBuilder<ProjectResource> builder, string name, IResourceBuilder<ParameterResource> parameter)
    {
        builder.Resource.Environment.Add((name, parameter.Resource));
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithExternalHttpEndpoints(this IResourceBuilder<ProjectResource> builder)
    {
        builder.Resource.ExternalHttpEndpoints = true;
        return builder;
    }

    public static IResourceBuilder<ProjectResource> WithHttpHealthCheck(this IResourceBuilder<ProjectResource> builder, string path)
    {
        builder.Resource.HealthCheckPath = path;
        return builder;
    }

    private static int? ConfiguredPort(DistributedApplicationBuilder builder, string name, int? fallback)
    {
        var configured = builder.Configuration[$"Ports:{name}"];
        if (configured is null)
        {
            return fallback;
        }

        if (!int.TryParse(configured, out var port) || port is < 0 or > 65535)
        {
            throw new DistributedApplicationException($"Ports:{name} must be a port number from 0 to 65535 (0 picks a free port), not '{configured}'.");
        }

        return port == 0 ? null : port;
    }

    private static int? LaunchProfilePort(string projectPath)
    {
        var launchSettings = Path.Combine(Path.GetDirectoryName(projectPath)!, "Properties", "launchSettings.json");
        if (!File.Exists(launchSettings))
        {
            return null;
        }

        using var document = JsonDocument.Parse(File.ReadAllText(launchSettings));
        if (!document.RootElement.TryGetProperty("profiles", out var profiles))
        {
            return null;
        }

        foreach (var profile in profiles.EnumerateObject())
        {
            if (profile.Value.TryGetProperty("applicationUrl", out var urls))
            {
                foreach (var url in (urls.GetString() ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp)
                    {
                        return uri.Port;
                    }
                }
            }
        }

        return null;
    }
}
