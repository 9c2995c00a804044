using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Platform.Benchmarks;

/// <summary>A closed-loop load: <c>concurrency</c> workers sending one request after another for a fixed time.</summary>
internal static class Load
{
    public static readonly string Header = $"{"scenario",-36} {"conc",5} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"ovh p50",8} {"ovh p99",8} {"errors",7}";

    /// <summary>
    /// A one-second warm-up, then the measured run, as one report row; <paramref name="overheadHeader"/> is the
    /// response header in which the service reports its own time.
    /// </summary>
    public static async Task<string> MeasureAsync(
        string scenario, HttpClient client, string path, Func<int, string> body, int concurrency, double seconds, string overheadHeader = "x-platform-overhead-ms")
    {
        await RunAsync(client, path, body, concurrency, TimeSpan.FromSeconds(1), overheadHeader);
        return (await RunAsync(client, path, body, concurrency, TimeSpan.FromSeconds(seconds), overheadHeader)).Row(scenario, concurrency);
    }

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
        public string Row(string scenario, int concurrency) => string.Create(CultureInfo.InvariantCulture,
            $"{scenario,-36} {concurrency,5} {Latencies.Length / Elapsed.TotalSeconds,9:0} {Percentile(Latencies, 0.5),8:0.00} {Percentile(Latencies, 0.99),8:0.00} {Format(Overheads, 0.5),8} {Format(Overheads, 0.99),8} {Errors,7}");

        private static string Format(double[] values, double p) => values.Length == 0 ? "-" : Percentile(values, p).ToString("0.00", CultureInfo.InvariantCulture);
    }
}
