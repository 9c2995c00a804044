using System.Diagnostics;

namespace Platform.Planning.Planner;

/// <summary>
/// Time a request spent waiting for the model gateway's completions, so the planner can report its own overhead
/// (<c>x-platform-planner-overhead-ms</c>): everything else it did, tool listing and price lookups included.
/// </summary>
public sealed class GatewayClock
{
    public const string OverheadHeader = "x-platform-planner-overhead-ms";
    private readonly long _started = Stopwatch.GetTimestamp();
    private long _gatewayTicks;

    public async Task<T> TimeAsync<T>(Task<T> call)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            return await call;
        }
        finally
        {
            Interlocked.Add(ref _gatewayTicks, Stopwatch.GetTimestamp() - started);
        }
    }

    public TimeSpan Overhead => Stopwatch.GetElapsedTime(_started) - TimeSpan.FromSeconds((double)Interlocked.Read(ref _gatewayTicks) / Stopwatch.Frequency);
}
