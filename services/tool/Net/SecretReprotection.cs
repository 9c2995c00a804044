namespace Platform.Tool.Net;

/// <summary>
/// At start, re-encrypts secrets stored in plaintext (from before encryption) or under a previous key (a rotation in
/// progress) with the current key, retrying until the database answers. Replicas may run it together: each update
/// applies only to the value it read.
/// </summary>
internal sealed class SecretReprotection(SecretStore secrets, ILogger<SecretReprotection> logger) : BackgroundService
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                var (reprotected, unreadable) = await secrets.ReprotectAsync(stoppingToken);
                if (reprotected > 0)
                {
                    logger.LogInformation("{Count} secrets re-encrypted under the current key", reprotected);
                }

                if (unreadable.Count > 0)
                {
                    logger.LogError("{Count} secrets are under a key that is neither Secrets:Key nor in Secrets:PreviousKeys and stay as they are until set again: {Secrets}",
                        unreadable.Count, string.Join(", ", unreadable));
                }

                return;
            }
            catch (Npgsql.NpgsqlException e)
            {
                logger.LogWarning("Re-encrypting secrets failed ({Message}); retrying in {Interval}", e.Message, RetryInterval);
                await Task.Delay(RetryInterval, stoppingToken);
            }
        }
    }
}
