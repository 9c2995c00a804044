using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.ServiceDefaults.Data;

/// <summary>
/// Applies a service's numbered <c>Migrations/*.sql</c> files (embedded resources) at start, in one transaction under
/// an advisory lock, so replicas starting together apply each migration exactly once. An applied migration whose text
/// has changed stops the service: history is never rewritten silently.
/// </summary>
public sealed class MigrationRunner(NpgsqlDataSource dataSource, MigrationSource source, ILogger<MigrationRunner> logger) : IHostedService
{
    // An arbitrary constant shared by every service; each service has its own database, so they never contend.
    private const long MigrationLockKey = 7_305_942_118_001;
    private static readonly TimeSpan DatabaseWait = TimeSpan.FromSeconds(60);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + DatabaseWait;
        while (true)
        {
            try
            {
                await ApplyAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && DateTime.UtcNow < deadline)
            {
                logger.LogWarning("Database not reachable yet ({Message}); retrying", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task ApplyAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync("SELECT pg_advisory_xact_lock(@MigrationLockKey)", new { MigrationLockKey }, transaction);
        await connection.ExecuteAsync("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                id text PRIMARY KEY,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """, transaction: transaction);
        var applied = (await connection.QueryAsync<(string Id, string Checksum)>(
            "SELECT id, checksum FROM schema_migrations", transaction: transaction)).ToDictionary(m => m.Id, m => m.Checksum);

        foreach (var migration in source.Migrations)
        {
            if (applied.TryGetValue(migration.Id, out var checksum))
            {
                if (checksum != migration.Checksum)
                {
                    throw new InvalidOperationException($"Migration {migration.Id} was changed after it was applied; add a new migration instead.");
                }

                continue;
            }

            logger.LogInformation("Applying migration {Migration}", migration.Id);
            await connection.ExecuteAsync(migration.Sql, transaction: transaction);
            await connection.ExecuteAsync(
                "INSERT INTO schema_migrations (id, checksum) VALUES (@Id, @Checksum)", new { migration.Id, migration.Checksum }, transaction);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}

/// <summary>The migrations embedded in one assembly's <paramref name="folder"/> (dotted, as in resource names), ordered by their number.</summary>
public sealed class MigrationSource(Assembly assembly, string folder = "Migrations")
{
    public IReadOnlyList<Migration> Migrations { get; } = assembly.GetManifestResourceNames()
        .Where(n => n.Contains($".{folder}.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
        .Select(n => Migration.Read(assembly, n, folder))
        .OrderBy(m => m.Id, StringComparer.Ordinal)
        .ToList();
}

public sealed record Migration(string Id, string Sql, string Checksum)
{
    public static Migration Read(Assembly assembly, string resourceName, string folder)
    {
        using var reader = new StreamReader(assembly.GetManifestResourceStream(resourceName)!);
        var sql = reader.ReadToEnd();
        var id = resourceName[(resourceName.IndexOf($".{folder}.", StringComparison.Ordinal) + folder.Length + 2)..^".sql".Length];
        return new Migration(id, sql, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n")))));
    }
}

public static class MigrationExtensions
{
    /// <summary>Applies the calling service's embedded migrations to its <see cref="NpgsqlDataSource"/> before it serves.</summary>
    public static IHostApplicationBuilder AddMigrations(this IHostApplicationBuilder builder, Assembly migrationsAssembly)
    {
        // Rows are records with PascalCase names over snake_case columns, in every service that owns a schema.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        builder.Services.AddSingleton(new MigrationSource(migrationsAssembly));
        builder.Services.AddHostedService<MigrationRunner>();
        return builder;
    }
}
