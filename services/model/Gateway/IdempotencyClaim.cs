namespace Platform.Model.Gateway;

/// <summary>
/// A request's hold on its Idempotency-Key while it runs. The marker's lease is extended until the request ends, so a
/// long stream keeps its key while a replica that died loses it within one lease. Disposing without
/// <see cref="CompleteAsync"/> releases the key: a request that failed, or was cancelled, may be retried.
/// </summary>
public sealed class IdempotencyClaim : IAsyncDisposable
{
    private readonly IdempotencyStore _store;
    private readonly string _fingerprint;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepingAlive;
    private bool _completed;

    internal IdempotencyClaim(IdempotencyStore store, string key, string redisKey, string marker, string fingerprint, TimeSpan lease)
    {
        _store = store;
        Key = key;
        RedisKey = redisKey;
        Marker = marker;
        _fingerprint = fingerprint;
        Lease = lease;
        _keepingAlive = KeepAliveAsync(_stop.Token);
    }

    /// <summary>The key as the client sent it.</summary>
    public string Key { get; }

    internal string RedisKey { get; }

    internal string Marker { get; }

    internal TimeSpan Lease { get; }

    /// <summary>Stores the answer for repeats; from then on the key stays taken until the answer expires.</summary>
    public async Task CompleteAsync(CachedCompletion answer, decimal costUsd)
    {
        await StopKeepingAliveAsync();
        _completed = await _store.CompleteAsync(this, new IdempotencyEntry(_fingerprint, null, answer, costUsd));
    }

    public async ValueTask DisposeAsync()
    {
        await StopKeepingAliveAsync();
        if (!_completed)
        {
            await _store.ReleaseAsync(this);
        }

        _stop.Dispose();
    }

    private async Task StopKeepingAliveAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            await _keepingAlive;
        }
    }

    private async Task KeepAliveAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(Lease / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                await _store.ExtendAsync(this);
            }
        }
        catch (OperationCanceledException)
        {
            // The request ended.
        }
    }
}
