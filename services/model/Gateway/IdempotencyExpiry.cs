namespace Platform.Model.Gateway;

/// <summary>Deletes Idempotency-Key claims past their retention. Every replica sweeps; deleting is idempotent.</summary>
public sealed class IdempotencyExpiry(IdempotencyStore store, ILogger<IdempotencyExpiry> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await store.DeleteExpiredAsync(stoppingToken) is > 0 and var deleted)
                {
                    logger.LogInformation("{Count} expired Idempotency-Key claims deleted", deleted);
                }
            }
            catch (Npgsql.NpgsqlException e)
            {
                logger.LogWarning("Idempotency-Key expiry sweep failed: {Message}", e.Message);
            }
        }
    }
}
