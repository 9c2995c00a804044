using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Hosting;

namespace Aspire.Hosting;

/// <summary>Redis as a local process, shaped like Aspire.Hosting.Redis: a generated password (no specials) and a health check.</summary>
public static class LocalRedisBuilderExtensions
{
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string dataDirectory, IResourceBuilder<ParameterResource>? password = null)
    {
        // StackExchange.Redis cannot parse a password with a comma in a connection string.
        var passwordParameter = password?.Resource ?? ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password", special: false);
        var redis = new LocalRedisResource(name, passwordParameter, dataDirectory);
        var configFile = Path.Combine(dataDirectory, "redis.conf");

        builder.Eventing.Subscribe<BeforeStartEvent>(async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LocalRedisBuilderExtensions));
            redis.Annotations.OfType<ExecutableAnnotation>().Last().Command =
                await ServerBinaries.RedisServerAsync(message => logger.LogInformation("{Message}", message), cancellationToken);
        });

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(redis, async (_, cancellationToken) =>
        {
            // The password goes in a private configuration file rather than on the command line, where ps shows it.
            Directory.CreateDirectory(dataDirectory);
            await File.WriteAllTextAsync(configFile, $"""
                bind 127.0.0.1
                requirepass "{await passwordParameter.GetValueAsync(cancellationToken)}"
                dir "{dataDirectory}"
                appendonly yes
                save ""
                daemonize no
                protected-mode yes
                """, cancellationToken);
            File.SetUnixFileMode(configFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        });

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(redis, async (_, cancellationToken) =>
            connectionString = await redis.ConnectionStringExpression.GetValueAsync(cancellationToken));

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DataServersStopLast>());
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddRedis(_ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"), name: healthCheckKey);

        return builder.AddResource(redis)
            .WithEndpoint(name: LocalRedisResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add(configFile);
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            })
            .WithIconName("Database")
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }
}
