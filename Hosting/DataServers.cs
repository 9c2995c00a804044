using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Hosting;

namespace Aspire.Hosting;

/// <summary>
/// PostgreSQL and Redis for the app model, in the form the machine can run: Aspire's own containers in the manifest and
/// wherever a container runtime answers; local processes from Debian's packages where none does; an existing server
/// where configuration names one (<c>ConnectionStrings:&lt;name&gt;</c>). <c>DataServers:RunAs</c> (<c>Auto</c>,
/// <c>Container</c>, <c>Process</c>) overrides the choice.
/// </summary>
public static class DataServers
{
    private static bool? s_containerRuntimeAnswers;

    public static IResourceBuilder<IResourceWithConnectionString> AddPostgresServer(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        if (builder.ExistingConnectionString(name))
        {
            return builder.AddConnectionString(name);
        }

        return builder.RunsContainers()
            ? builder.AddPostgres(name).WithDataVolume($"platform-{name}-data")
            : builder.AddLocalPostgres(name, builder.DataDirectory(name));
    }

    public static IResourceBuilder<IResourceWithConnectionString> AddRedisServer(this IDistributedApplicationBuilder builder, [ResourceName] string name)
    {
        if (builder.ExistingConnectionString(name))
        {
            return builder.AddConnectionString(name);
        }

        return builder.RunsContainers()
            ? builder.AddRedis(name).WithDataVolume($"platform-{name}-data")
            : builder.AddLocalRedis(name, builder.DataDirectory(name));
    }

    /// <summary>A database on a server from <see cref="AddPostgresServer"/>, created once the server is ready.</summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDatabase(this IResourceBuilder<IResourceWithConnectionString> server, [ResourceName] string name)
    {
        var builder = server.ApplicationBuilder;
        if (builder.ExistingConnectionString(name))
        {
            return builder.AddConnectionString(name);
        }

        return server.Resource switch
        {
            PostgresServerResource container => builder.CreateResourceBuilder(container).AddDatabase(name),
            LocalPostgresServerResource local => builder.CreateResourceBuilder(local).AddDatabase(name),
            _ => builder.AddDatabaseOnExistingServer(server.Resource, name),
        };
    }

    /// <summary>Where local servers keep their data: <c>DataServers:DataDirectory</c>, by default <c>.platform</c> in the AppHost's folder.</summary>
    public static string DataDirectory(this IDistributedApplicationBuilder builder, string resourceName = "") =>
        Path.GetFullPath(Path.Combine(builder.AppHostDirectory, builder.Configuration["DataServers:DataDirectory"] ?? ".platform", resourceName));

    private static bool RunsContainers(this IDistributedApplicationBuilder builder) =>
        builder.ExecutionContext.IsPublishMode || builder.Configuration.GetValue("DataServers:RunAs", DataServersRunAs.Auto) switch
        {
            DataServersRunAs.Container => true,
            DataServersRunAs.Process => false,
            _ => s_containerRuntimeAnswers ??= ContainerRuntime.IsAvailable(builder.Configuration),
        };

    private static bool ExistingConnectionString(this IDistributedApplicationBuilder builder, string name) =>
        builder.ExecutionContext.IsRunMode && !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(name));

    private static IResourceBuilder<IResourceWithConnectionString> AddDatabaseOnExistingServer(
        this IDistributedApplicationBuilder builder, IResourceWithConnectionString server, string name)
    {
        var database = builder.AddConnectionString(name, ReferenceExpression.Create($"{server};Database={name}"));
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(database.Resource, async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(database.Resource);
            var connectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken)
                ?? throw new DistributedApplicationException($"{server.Name} has no connection string.");
            await PostgresDatabases.EnsureCreatedAsync(connectionString, [name], logger, cancellationToken);
        });
        return database;
    }
}

public enum DataServersRunAs
{
    Auto,
    Container,
    Process,
}
