using Platform.Hosting.ApplicationModel;

namespace Platform.Hosting.Local;

/// <summary>Runs one resource locally and reports its state; dependents start once <see cref="Healthy"/> completes.</summary>
internal abstract class ResourceRunner(Resource resource, ResourceStateTable table)
{
    private readonly TaskCompletionSource _healthy = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Resource Resource { get; } = resource;

    public string Name => Resource.Name;

    public abstract string Type { get; }

    /// <summary>Where clients reach it, e.g. <c>http://localhost:5101</c>; null for resources with no endpoint.</summary>
    public abstract string? Url { get; }

    public Task Healthy => _healthy.Task;

    public ResourceState State { get; private set; } = ResourceState.Waiting;

    public int? ProcessId { get; protected set; }

    public abstract Task RunAsync(CancellationToken cancellationToken);

    public abstract Task StopAsync();

    protected void SetState(ResourceState state, string? detail = null)
    {
        State = state;
        if (state == ResourceState.Running)
        {
            _healthy.TrySetResult();
        }

        table.OnStateChanged(this, state, detail);
    }

    protected void Fail(string message) => FailBecauseOf(new DistributedApplicationException(message));

    /// <summary>Never starts: it or something it waits for failed; start-up reports the original problem.</summary>
    public void FailBecauseOf(DistributedApplicationException problem)
    {
        State = ResourceState.FailedToStart;
        _healthy.TrySetException(problem);
        table.OnStateChanged(this, ResourceState.FailedToStart, problem.Message);
    }
}
