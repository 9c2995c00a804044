using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Platform.Hosting;

/// <summary>
/// DCP stops every resource at once when the AppHost stops, so local PostgreSQL and Redis would go down while services
/// still drain into them. This stops everything else first, then the servers, which then shut down cleanly.
/// </summary>
internal sealed class DataServersStopLast(DistributedApplicationModel model, ResourceCommandService commands, ILogger<DataServersStopLast> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var servers = model.Resources.Where(r => r is LocalPostgresServerResource or LocalRedisResource).ToList();
        var others = model.Resources.Where(r => r is ProjectResource or ExecutableResource && !servers.Contains(r) && r.Annotations.OfType<ResourceCommandAnnotation>().Any(c => c.Name == KnownResourceCommands.StopCommand));
        await Task.WhenAll(others.Select(r => StopAsync(r, cancellationToken)));
        foreach (var postgres in servers.OfType<LocalPostgresServerResource>())
        {
            await EndSessionsAsync(postgres, cancellationToken);
        }

        await Task.WhenAll(servers.Select(r => StopAsync(r, cancellationToken)));
    }

    /// <summary>Sessions left open by other clients would hold PostgreSQL's shutdown until DCP kills it.</summary>
    private async Task EndSessionsAsync(LocalPostgresServerResource postgres, CancellationToken cancellationToken)
    {
        try
        {
            var connectionString = await postgres.ConnectionStringExpression.GetValueAsync(cancellationToken);
            await using var connection = new NpgsqlConnection($"{connectionString};Database=postgres;Pooling=false;Timeout=3");
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            logger.LogDebug(e, "Ending the sessions of {Resource} failed", postgres.Name);
        }
    }

    private async Task StopAsync(IResource resource, CancellationToken cancellationToken)
    {
        try
        {
            var result = await commands.ExecuteCommandAsync(resource, KnownResourceCommands.StopCommand, cancellationToken);
            if (!result.Success)
            {
                logger.LogDebug("Stopping {Resource}: {Message}", resource.Name, result.Message);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
            logger.LogDebug(e, "Stopping {Resource} failed; DCP stops it with the rest", resource.Name);
        }
    }
}
