using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Platform.Hosting;

namespace Aspire.Hosting;

/// <summary>Dashboard commands on a PostgreSQL server: back up every database, and restore the latest backup.</summary>
public static class PostgresBackupCommands
{
    public const string BackUp = "back-up";
    public const string RestoreLatest = "restore-latest";

    public static IResourceBuilder<T> WithBackupCommands<T>(this IResourceBuilder<T> builder) where T : IResourceWithConnectionString
    {
        var backupsFolder = builder.ApplicationBuilder.DataDirectory(Path.Combine("backups", builder.Resource.Name));
        var server = builder.Resource;
        return builder
            .WithCommand(BackUp, "Back up", context => ReportAsync(async () =>
                $"Backed up every database to {await PostgresBackups.BackUpAsync(await ConnectionStringAsync(server, context.CancellationToken), backupsFolder, context.CancellationToken)}"),
            new CommandOptions
            {
                Description = $"pg_dump every database to a timestamped folder under {backupsFolder}",
                IconName = "ArrowDownload",
                UpdateState = WhenHealthy,
            })
            .WithCommand(RestoreLatest, "Restore latest backup", context => ReportAsync(async () =>
                $"Restored every database from {await PostgresBackups.RestoreLatestAsync(await ConnectionStringAsync(server, context.CancellationToken), backupsFolder, context.CancellationToken)}"),
            new CommandOptions
            {
                Description = "Replace each database with its copy in the newest backup",
                ConfirmationMessage = "Replace every database with the newest backup? Changes made since that backup are lost.",
                IconName = "ArrowUpload",
                UpdateState = WhenHealthy,
            });
    }

    private static async Task<ExecuteCommandResult> ReportAsync(Func<Task<string>> run)
    {
        try
        {
            return CommandResults.Success(await run());
        }
        catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException)
        {
            return CommandResults.Failure(e.Message);
        }
    }

    private static ResourceCommandState WhenHealthy(UpdateCommandStateContext context) =>
        context.ResourceSnapshot.HealthStatus == HealthStatus.Healthy ? ResourceCommandState.Enabled : ResourceCommandState.Disabled;

    private static async Task<string> ConnectionStringAsync(IResourceWithConnectionString server, CancellationToken cancellationToken) =>
        await server.GetConnectionStringAsync(cancellationToken) ?? throw new InvalidOperationException($"{server.Name} has no connection string yet.");
}
