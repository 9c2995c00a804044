namespace Platform.Model.Gateway;

/// <summary>
/// A request's hold on its Idempotency-Key while it runs. The claim's lease is extended until the request ends, so a
/// long stream keeps its key while a replica that died loses it within one lease. Disposing without an answer releases
/// the key: a request that failed, or was refused, before it was paid for may be retried.
/// </summary>
public sealed class IdempotencyClaim : IAsyncDisposable
{
    private readonly IdempotencyStore _store;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _keepingAlive;
    private bool _answered;

    internal IdempotencyClaim(IdempotencyStore store, string tenantId, string key, Guid owner, TimeSpan lease)
    {
        _store = store;
        TenantId = tenantId;
        Key = key;
        Owner = owner;
        Lease = lease;
        _keepingAlive = KeepAliveAsync(_stop.Token);
    }

    /// <summary>The key as the client sent it.</summary>
    public string Key { get; }

    internal string TenantId { get; }

    internal Guid Owner { get; }

    internal TimeSpan Lease { get; }

    /// <summary>
    /// Stores the answer for repeats; from then on the key stays taken until the answer expires. The call is paid for
    /// once there is an answer, so the key is kept even when storing it fails: a repeat then waits out the lease and
    /// learns that the outcome is unknown, rather than paying again.
    /// </summary>
    public async Task CompleteAsync(CachedCompletion answer, decimal costUsd)
    {
        _answered = true;
        await StopKeepingAliveAsync();
        await _store.CompleteAsync(this, answer, costUsd);
    }

    public async ValueTask DisposeAsync()
    {
        await StopKeepingAliveAsync();
        if (!_answered)
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
