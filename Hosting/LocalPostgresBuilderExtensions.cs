using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Platform.Hosting;

namespace Aspire.Hosting;

/// <summary>
/// PostgreSQL as a local process, shaped like Aspire.Hosting.PostgreSQL: a generated password parameter, a health check,
/// databases created once the server is ready, each with a health check of its own so that <c>WaitFor(db)</c> waits
/// until it exists.
/// </summary>
public static class LocalPostgresBuilderExtensions
{
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder, [ResourceName] string name, string dataDirectory, IResourceBuilder<ParameterResource>? password = null)
    {
        var passwordParameter = password?.Resource ?? ParameterResourceBuilderExtensions.CreateDefaultPasswordParameter(builder, $"{name}-password");
        var server = new LocalPostgresServerResource(name, passwordParameter, dataDirectory);
        var launch = new LaunchSettings();

        builder.Eventing.Subscribe<BeforeStartEvent>(async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LocalPostgresBuilderExtensions));
            launch.BinDirectory = await ServerBinaries.PostgresBinDirectoryAsync(message => logger.LogInformation("{Message}", message), cancellationToken);
            // PostgreSQL logs to stderr, which the dashboard shows as errors; the shell hands it stdout instead and
            // execs, so that DCP's signals reach the server itself.
            server.Annotations.OfType<ExecutableAnnotation>().Last().Command = "/bin/sh";
        });

        string? connectionString = null;
        builder.Eventing.Subscribe<ConnectionStringAvailableEvent>(server, async (_, cancellationToken) =>
            connectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken));

        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(server, async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
            var passwordValue = await server.PasswordParameter.GetValueAsync(cancellationToken)
                ?? throw new DistributedApplicationException($"Parameter {server.PasswordParameter.Name} has no value.");
            launch.DataFolder = await PrepareDataFolderAsync(server, launch.BinDirectory!, passwordValue, logger);
        });

        // Aspire carries a container's state to its databases, not an executable's: so the server does it here.
        builder.Eventing.Subscribe<ResourceReadyEvent>(server, async (@event, cancellationToken) =>
        {
            var logger = @event.Services.GetRequiredService<ResourceLoggerService>().GetLogger(server);
            await PostgresDatabases.EnsureCreatedAsync(connectionString!, server.Databases.Values, logger, cancellationToken);
            await SetDatabasesStateAsync(@event.Services, KnownResourceStates.Running);
        });
        builder.Eventing.Subscribe<ResourceStoppedEvent>(server, (@event, _) =>
            SetDatabasesStateAsync(@event.Services, @event.ResourceEvent.Snapshot.State?.Text ?? KnownResourceStates.Finished));

        async Task SetDatabasesStateAsync(IServiceProvider services, string state)
        {
            var notifications = services.GetRequiredService<ResourceNotificationService>();
            foreach (var database in builder.Resources.OfType<LocalPostgresDatabaseResource>().Where(d => d.Parent == server))
            {
                await notifications.PublishUpdateAsync(database, snapshot => snapshot with
                {
                    State = state,
                    StartTimeStamp = state == KnownResourceStates.Running ? DateTime.UtcNow : snapshot.StartTimeStamp,
                    StopTimeStamp = state == KnownResourceStates.Running ? null : DateTime.UtcNow,
                });
            }
        }

        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, DataServersStopLast>());
        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().AddNpgSql(
            _ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"),
            name: healthCheckKey,
            configure: connection => connection.ConnectionString += ";Database=postgres;Pooling=false");

        return builder.AddResource(server)
            .WithEndpoint(name: LocalPostgresServerResource.PrimaryEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                var (command, prefix) = ServerUser.Wrap(Path.Combine(launch.BinDirectory!, "postgres"));
                prefix = ["-c", "exec \"$0\" \"$@\" 2>&1", command, .. prefix];
                string[] settings = ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=300"];
                foreach (var argument in prefix.Concat(["-D", launch.DataFolder!]).Concat(settings))
                {
                    context.Args.Add(argument);
                }

                context.Args.Add("-p");
                context.Args.Add(server.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            })
            .WithIconName("DatabaseMultiple")
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresServerResource> builder, [ResourceName] string name, string? databaseName = null)
    {
        databaseName ??= name;
        var database = new LocalPostgresDatabaseResource(name, databaseName, builder.Resource);
        builder.Resource.AddDatabase(name, databaseName);

        string? connectionString = null;
        builder.ApplicationBuilder.Eventing.Subscribe<ConnectionStringAvailableEvent>(database, async (_, cancellationToken) =>
            connectionString = await database.ConnectionStringExpression.GetValueAsync(cancellationToken));

        var healthCheckKey = $"{name}_check";
        // Unpooled, so that the AppHost holds no session that would keep the server from shutting down.
        builder.ApplicationBuilder.Services.AddHealthChecks().AddNpgSql(
            _ => connectionString ?? throw new InvalidOperationException("Connection string is unavailable"),
            name: healthCheckKey,
            configure: connection => connection.ConnectionString += ";Pooling=false");

        return builder.ApplicationBuilder.AddResource(database)
            .WithIconName("Database")
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    /// <summary>
    /// Makes the data folder on first start (initdb, with the password parameter as the superuser's password) and
    /// refuses, leaving it untouched, a folder from another PostgreSQL version, a foreign folder, or a password that
    /// is not the one the folder was made with.
    /// </summary>
    private static async Task<string> PrepareDataFolderAsync(LocalPostgresServerResource server, string bin, string password, ILogger logger)
    {
        var serverFolder = await ServerUser.ReachableFolderAsync(server.DataDirectory, message => logger.LogInformation("{Message}", message));
        var dataFolder = Path.Combine(serverFolder, "data");
        var passwordMarker = Path.Combine(serverFolder, "password.sha256");
        var passwordHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)));
        var versionFile = Path.Combine(dataFolder, "PG_VERSION");
        if (File.Exists(versionFile))
        {
            var version = (await File.ReadAllTextAsync(versionFile)).Trim();
            var binaryVersion = Path.GetFileName(Path.GetDirectoryName(bin));
            if (int.TryParse(binaryVersion, NumberStyles.None, CultureInfo.InvariantCulture, out _) && version != binaryVersion)
            {
                throw new DistributedApplicationException(
                    $"{dataFolder} was made by PostgreSQL {version} but this machine runs PostgreSQL {binaryVersion}. Upgrade it with pg_upgrade, or point DataServers:DataDirectory elsewhere; it was left untouched.");
            }

            if (File.Exists(passwordMarker) && (await File.ReadAllTextAsync(passwordMarker)).Trim() != passwordHash)
            {
                throw new DistributedApplicationException(
                    $"{dataFolder} was made with another password than Parameters:{server.PasswordParameter.Name}. Set that parameter to the password the folder was made with (or point DataServers:DataDirectory elsewhere); it was left untouched.");
            }

            return dataFolder;
        }

        if (Directory.Exists(dataFolder) && Directory.EnumerateFileSystemEntries(dataFolder).Any())
        {
            throw new DistributedApplicationException(
                $"{dataFolder} is not empty and is not a PostgreSQL data folder. Move it away or point DataServers:DataDirectory elsewhere; it was left untouched.");
        }

        logger.LogInformation("Initialising a new PostgreSQL data folder at {DataFolder}", dataFolder);
        Directory.CreateDirectory(dataFolder);
        var passwordFile = Path.Combine(serverFolder, "initdb-password");
        await File.WriteAllTextAsync(passwordFile, password);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        try
        {
            await ServerUser.GiveAsync(serverFolder);
            await ServerUser.RunAsync(Path.Combine(bin, "initdb"), ["-D", dataFolder, "-U", LocalPostgresServerResource.UserName,
                $"--pwfile={passwordFile}", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale"]);
        }
        finally
        {
            File.Delete(passwordFile);
        }

        await File.WriteAllTextAsync(passwordMarker, passwordHash);
        return dataFolder;
    }

    /// <summary>What is known only once the AppHost starts: where the binaries are and which data folder to serve.</summary>
    private sealed class LaunchSettings
    {
        public string? BinDirectory { get; set; }

        public string? DataFolder { get; set; }
    }
}
