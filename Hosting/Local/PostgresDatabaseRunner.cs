using Npgsql;
using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Local;

/// <summary>Creates a database once its server accepts connections, as Aspire does; never drops one.</summary>
internal sealed class PostgresDatabaseRunner(PostgresDatabaseResource database, Func<string> serverConnectionString, ResourceStateTable table)
    : ResourceRunner(database, table)
{
    public override string Type => "database";

    public override string? Url => null;

    public override async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            SetState(ResourceState.Starting);
            var builder = new NpgsqlConnectionStringBuilder(serverConnectionString()) { Database = "postgres", Pooling = false };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection)
            {
                Parameters = { new() { Value = Name } },
            };
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                // Identifiers cannot be parameters; the name is the resource name, quoted.
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{Name.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                try
                {
                    await create.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
                {
                    // Created concurrently by another host sharing the server: what we wanted.
                }
            }

            SetState(ResourceState.Running);
        }
        catch (NpgsqlException e)
        {
            Fail($"Could not create database '{Name}': {e.Message}");
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    public override Task StopAsync() => Task.CompletedTask;
}
