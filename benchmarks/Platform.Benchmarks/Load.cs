using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Platform.Benchmarks;

/// <summary>A closed-loop load: <c>concurrency</c> workers sending one request after another for a fixed time.</summary>
internal static class Load
{
    /// <summary>Before each measured step, so that the first step does not measure the services' JIT at work.</summary>
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(3);

    /// <summary>The gateway's own time per request, upstream excluded.</summary>
    public const string GatewayOverheadHeader = "x-platform-overhead-ms";

    public static readonly string Header = $"{"scenario",-36} {"conc",5} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"ovh p50",8} {"ovh p99",8} {"errors",7} {"cpu/req",8}";

    /// <summary>
    /// A warm-up, then the measured run, as one report row; <paramref name="overheadHeader"/> is the
    /// response header in which the service reports its own time, and <paramref name="servicePid"/> the process whose
    /// CPU milliseconds per request the row gives (all its threads, user and system).
    /// </summary>
    public static async Task<string> MeasureAsync(
        string scenario, HttpClient client, string path, Func<int, string> body, int concurrency, double seconds, string overheadHeader = GatewayOverheadHeader,
        int? servicePid = null)
    {
        await RunAsync(client, path, body, concurrency, Warmup, overheadHeader);
        // On stderr, so a profiler can be attached to the step being measured.
        await Console.Error.WriteLineAsync($"measuring: {scenario}, c={concurrency}");
        var before = servicePid is { } pid ? ProcessCpu.Read().Processes.GetValueOrDefault(pid).Ticks : 0;
        var result = await RunAsync(client, path, body, concurrency, TimeSpan.FromSeconds(seconds), overheadHeader);
        double? cpuPerRequest = servicePid is { } measured
            ? (ProcessCpu.Read().Processes.GetValueOrDefault(measured).Ticks - before) * ProcessCpu.MillisecondsPerTick / result.Latencies.Length
            : null;
        return result.Row(scenario, concurrency, cpuPerRequest);
    }

    /// <summary>
    /// Load that is not measured, to run before a suite's first step: until the services' hot paths are compiled by the
    /// tiered JIT (its background worker was still busy 20 s after the start at one request at a time), whatever is
    /// measured first is mostly the JIT.
    /// </summary>
    public static Task WarmUpAsync(HttpClient client, string path, Func<int, string> body, TimeSpan duration) =>
        RunAsync(client, path, body, concurrency: 8, duration, GatewayOverheadHeader);

    /// <summary>The value at fraction <paramref name="p"/> of ascending <paramref name="sorted"/> (nearest rank).</summary>
    public static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];

    private static async Task<Result> RunAsync(HttpClient client, string path, Func<int, string> body, int concurrency, TimeSpan duration, string overheadHeader)
    {
        var latencies = new List<double>[concurrency];
        var overheads = new List<double>[concurrency];
        var errors = 0;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            latencies[worker] = [];
            overheads[worker] = [];
            while (stopwatch.Elapsed < duration)
            {
                var started = Stopwatch.GetTimestamp();
                using var response = await client.PostAsync(path, new StringContent(body(worker), Encoding.UTF8, "application/json"));
                await response.Content.ReadAsByteArrayAsync();
                latencies[worker].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }

                if (response.Headers.TryGetValues(overheadHeader, out var overhead))
                {
                    overheads[worker].Add(double.Parse(overhead.First(), CultureInfo.InvariantCulture));
                }
            }
        }));
        return new Result(latencies.SelectMany(l => l).Order().ToArray(), overheads.SelectMany(o => o).Order().ToArray(), errors, stopwatch.Elapsed);
    }

    private sealed record Result(double[] Latencies, double[] Overheads, int Errors, TimeSpan Elapsed)
    {
        public string Row(string scenario, int concurrency, double? cpuPerRequest) => string.Create(CultureInfo.InvariantCulture,
            $"{scenario,-36} {concurrency,5} {Latencies.Length / Elapsed.TotalSeconds,9:0} {Percentile(Latencies, 0.5),8:0.00} {Percentile(Latencies, 0.99),8:0.00} {Format(Overheads, 0.5),8} {Format(Overheads, 0.99),8} {Errors,7} {(cpuPerRequest is { } cpu ? cpu.ToString("0.000", CultureInfo.InvariantCulture) : "-"),8}");

        private static string Format(double[] values, double p) => values.Length == 0 ? "-" : Percentile(values, p).ToString("0.00", CultureInfo.InvariantCulture);
    }
}
