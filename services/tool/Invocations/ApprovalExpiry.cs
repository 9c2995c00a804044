namespace Platform.Tool.Invocations;

/// <summary>Denies, by expiry, approvals nobody decided in time. Each replica sweeps; the update is idempotent.</summary>
public sealed class ApprovalExpiry(InvocationStore invocations, ILogger<ApprovalExpiry> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await invocations.ExpireApprovalsAsync(stoppingToken) is > 0 and var expired)
                {
                    logger.LogInformation("{Count} pending approvals expired", expired);
                }
            }
            catch (Npgsql.NpgsqlException e)
            {
                logger.LogWarning("Approval expiry sweep failed: {Message}", e.Message);
            }

            await Task.Delay(Interval, stoppingToken);
        }
    }
}
