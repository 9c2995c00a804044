using System.Diagnostics;

namespace Platform.TestSupport;

/// <summary>
/// The one way the tests wait for the platform: poll a condition until it holds or a timeout passes, then fail naming
/// what was awaited and what was last seen. A test never sleeps to let something happen; a test that proves something
/// did not happen waits for a later event that shows the system has gone past the point where it would have.
/// </summary>
public static class Waits
{
    // Polls start fast, for what is nearly there, and back off so that a long wait does not load a busy machine.
    private static readonly TimeSpan FirstInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan LongestInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Reads with <paramref name="read"/> until <paramref name="done"/> holds for what it read, and answers that; after
    /// <paramref name="timeout"/>, throws a <see cref="TimeoutException"/> naming <paramref name="what"/> and the last
    /// value read, as <paramref name="describe"/> tells it.
    /// </summary>
    public static async Task<T> WaitUntilAsync<T>(string what, TimeSpan timeout, Func<Task<T>> read, Func<T, bool> done, Func<T, string?>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        var interval = FirstInterval;
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Waited {timeout.TotalSeconds:0.#} s for {what}; last seen: {(describe is null ? value?.ToString() : describe(value))}");
            }

            await Task.Delay(interval);
            interval = TimeSpan.FromTicks(Math.Min(interval.Ticks * 2, LongestInterval.Ticks));
        }
    }

    /// <summary>Waits until <paramref name="condition"/> answers true; see <see cref="WaitUntilAsync{T}"/>.</summary>
    public static async Task WaitUntilAsync(string what, TimeSpan timeout, Func<Task<bool>> condition) =>
        await WaitUntilAsync(what, timeout, condition, holds => holds, _ => "not yet");

    /// <summary>Waits until <paramref name="condition"/> holds; see <see cref="WaitUntilAsync{T}"/>.</summary>
    public static Task WaitUntilAsync(string what, TimeSpan timeout, Func<bool> condition) =>
        WaitUntilAsync(what, timeout, () => Task.FromResult(condition()));
}
