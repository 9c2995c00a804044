using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Hosting;

/// <summary>Creates databases on a server that is up: a database that exists already is left as it is.</summary>
internal static class PostgresDatabases
{
    public static async Task EnsureCreatedAsync(string serverConnectionString, IEnumerable<string> databaseNames, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = "postgres", Pooling = false }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        foreach (var databaseName in databaseNames)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {new NpgsqlCommandBuilder().QuoteIdentifier(databaseName)}";
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
                logger.LogInformation("Created database {Database}", databaseName);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
            {
                logger.LogDebug("Database {Database} exists", databaseName);
            }
        }
    }
}
