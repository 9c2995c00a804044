using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

namespace Platform.Model.Ledger;

/// <summary>
/// Takes usage records off the request path and writes them to Postgres in batches with COPY. On shutdown it
/// drains what is queued before the process exits, so a graceful stop loses nothing.
/// </summary>
public sealed class UsageLedger(NpgsqlDataSource dataSource, ILogger<UsageLedger> logger) : BackgroundService
{
    private const int MaxBatch = 1000;
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(200);
    private readonly Channel<UsageRecord> _queue = Channel.CreateUnbounded<UsageRecord>(new UnboundedChannelOptions { SingleReader = true });

    public void Record(UsageRecord record)
    {
        if (!_queue.Writer.TryWrite(record))
        {
            logger.LogError("Usage record for {Tenant} arrived after shutdown and was not kept", record.TenantId);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<UsageRecord>(MaxBatch);
        // Reading ends only when the queue is completed and empty: stopping never abandons queued records.
        while (await _queue.Reader.WaitToReadAsync(CancellationToken.None))
        {
            if (!stoppingToken.IsCancellationRequested)
            {
                // Gather for a moment so one COPY carries many records.
                await Task.Delay(BatchWindow, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var record))
            {
                batch.Add(record);
            }

            await WriteWithRetryAsync(batch);
            batch.Clear();
        }
    }

    private async Task WriteWithRetryAsync(List<UsageRecord> batch)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteAsync(batch);
                return;
            }
            catch (NpgsqlException e) when (attempt < 30)
            {
                logger.LogWarning("Writing {Count} usage records failed ({Message}); retrying", batch.Count, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)));
            }
        }
    }

    private async Task WriteAsync(List<UsageRecord> batch)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var writer = await connection.BeginBinaryImportAsync("""
            COPY usage_ledger (occurred_at, tenant_id, key_id, alias, deployment, input_tokens, output_tokens, cost_usd, latency_ms, cache_hit, status, trace_id, idempotency_key)
            FROM STDIN (FORMAT BINARY)
            """);
        foreach (var record in batch)
        {
            await writer.StartRowAsync();
            await writer.WriteAsync(record.OccurredAt, NpgsqlDbType.TimestampTz);
            await writer.WriteAsync(record.TenantId, NpgsqlDbType.Text);
            await writer.WriteAsync(record.KeyId, NpgsqlDbType.Text);
            await writer.WriteAsync(record.Alias, NpgsqlDbType.Text);
            await WriteNullableAsync(writer, record.Deployment);
            await writer.WriteAsync(record.InputTokens, NpgsqlDbType.Integer);
            await writer.WriteAsync(record.OutputTokens, NpgsqlDbType.Integer);
            await writer.WriteAsync(record.CostUsd, NpgsqlDbType.Numeric);
            await writer.WriteAsync(record.LatencyMs, NpgsqlDbType.Integer);
            await writer.WriteAsync(record.CacheHit, NpgsqlDbType.Boolean);
            await writer.WriteAsync(record.Status, NpgsqlDbType.Integer);
            await WriteNullableAsync(writer, record.TraceId);
            await WriteNullableAsync(writer, record.IdempotencyKey);
        }

        await writer.CompleteAsync();
    }

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, string? value) =>
        value is null ? writer.WriteNullAsync() : writer.WriteAsync(value, NpgsqlDbType.Text);
}
