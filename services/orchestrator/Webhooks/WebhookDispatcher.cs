using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.ServiceDefaults.Net;

namespace Platform.Orchestrator.Webhooks;

/// <summary>
/// Delivers the outbox: every run's webhook announcements, written in the same statement as the state they announce,
/// so none is lost and none is sent for a state that was not reached. Deliveries go through the SSRF guard and the
/// tenant's HTTP allowlist, as HTTP tools do, are signed, and are retried with exponential backoff; a receiver sees
/// an announcement at least once, and <c>X-Platform-Delivery</c> tells repeats apart.
/// </summary>
public sealed partial class WebhookDispatcher(
    NpgsqlDataSource dataSource, WebhookSigner signer, HttpAllowlistIndex allowlists, IOptions<WebhookOptions> options, TimeProvider time,
    ILogger<WebhookDispatcher> logger) : BackgroundService
{
    private readonly WebhookOptions _options = options.Value;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                foreach (var delivery in await ClaimAsync(stoppingToken))
                {
                    await DeliverAsync(delivery, stoppingToken);
                }
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                LogOutboxUnavailable(e);
            }

            try
            {
                await Task.Delay(_options.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Due deliveries, each pushed back by a claim window first, so replicas never send the same one at once.</summary>
    private async Task<IReadOnlyList<Delivery>> ClaimAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return [.. await connection.QueryAsync<Delivery>(new CommandDefinition("""
            UPDATE outbox SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => @claimSeconds)
            WHERE id IN (
                SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT 32 FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id AS TenantId, run_id AS RunId, event_seq AS EventSeq, url, payload::text AS Payload, attempts
            """, new { claimSeconds = _options.Timeout.TotalSeconds * 2 }, cancellationToken: cancellationToken))];
    }

    private async Task DeliverAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        string? failure;
        try
        {
            var url = new Uri(delivery.Url);
            OutboundGuard.CheckScheme(url);
            using var handler = OutboundGuard.CreateHandler(await allowlists.PolicyAsync(delivery.TenantId));
            using var client = new HttpClient(handler) { Timeout = _options.Timeout };
            var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(delivery.Payload, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Platform-Delivery", delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Platform-Timestamp", timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("X-Platform-Signature", signer.Sign(delivery.TenantId, timestamp, delivery.Payload));
            using var response = await client.SendAsync(request, cancellationToken);
            failure = response.IsSuccessStatusCode ? null : $"The receiver answered {(int)response.StatusCode}.";
        }
        catch (Exception e) when (e is HttpRequestException or BlockedRequestException or TaskCanceledException or UriFormatException)
        {
            failure = e is TaskCanceledException && !cancellationToken.IsCancellationRequested ? $"No answer within {_options.Timeout.TotalSeconds} s." : e.Message;
        }

        var giveUp = failure is not null && delivery.Attempts >= _options.MaxAttempts;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE outbox SET
                delivered_at = CASE WHEN @failure::text IS NULL THEN now() ELSE NULL END,
                last_error = @failure,
                next_attempt_at = CASE WHEN @giveUp THEN 'infinity' WHEN @failure::text IS NULL THEN next_attempt_at
                                       ELSE now() + make_interval(secs => @backoff) END
            WHERE id = @Id
            """, new { delivery.Id, failure, giveUp, backoff = Math.Min(3600, Math.Pow(2, delivery.Attempts)) }, cancellationToken: cancellationToken));
        if (failure is not null)
        {
            LogDeliveryFailed(delivery.RunId, delivery.Attempts, failure, giveUp);
        }
    }

    private sealed record Delivery(long Id, string TenantId, Guid RunId, int EventSeq, string Url, string Payload, int Attempts);

    [LoggerMessage(LogLevel.Warning, "The webhook outbox cannot be read; trying again")]
    private partial void LogOutboxUnavailable(Exception exception);

    [LoggerMessage(LogLevel.Information, "Webhook for run {RunId}, attempt {Attempt}, failed: {Failure} (given up: {GaveUp})")]
    private partial void LogDeliveryFailed(Guid runId, int attempt, string failure, bool gaveUp);
}

/// <summary><c>Webhooks:*</c> configuration.</summary>
public sealed class WebhookOptions
{
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries given up after this many attempts (about nine hours of backoff with the default).</summary>
    public int MaxAttempts { get; set; } = 15;
}
