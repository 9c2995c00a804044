namespace Platform.Hosting;

public enum ResourceState
{
    Waiting,
    Starting,
    Running,
    Unhealthy,
    Restarting,
    Exited,
    FailedToStart,
    Stopping,
    Finished,
}
