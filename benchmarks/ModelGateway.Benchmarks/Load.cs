using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Platform.Benchmarks;

/// <summary>A closed-loop load: <c>concurrency</c> workers sending one request after another for a fixed time.</summary>
internal static class Load
{
    public static async Task<Result> RunAsync(HttpClient client, string path, string body, int concurrency, TimeSpan duration)
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
                using var response = await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
                await response.Content.ReadAsByteArrayAsync();
                latencies[worker].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (!response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref errors);
                }

                if (response.Headers.TryGetValues("x-platform-overhead-ms", out var overhead))
                {
                    overheads[worker].Add(double.Parse(overhead.First(), CultureInfo.InvariantCulture));
                }
            }
        }));
        return new Result(latencies.SelectMany(l => l).Order().ToArray(), overheads.SelectMany(o => o).Order().ToArray(), errors, stopwatch.Elapsed);
    }

    public sealed record Result(double[] Latencies, double[] Overheads, int Errors, TimeSpan Elapsed)
    {
        public string Row(string scenario, int concurrency) => string.Create(CultureInfo.InvariantCulture,
            $"{scenario,-34} {concurrency,5} {Latencies.Length / Elapsed.TotalSeconds,9:0} {Percentile(Latencies, 0.5),8:0.00} {Percentile(Latencies, 0.99),8:0.00} {Format(Overheads, 0.5),8} {Format(Overheads, 0.99),8} {Errors,7}");

        private static string Format(double[] values, double p) => values.Length == 0 ? "-" : Percentile(values, p).ToString("0.00", CultureInfo.InvariantCulture);

        private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Length - 1, Math.Ceiling(p * sorted.Length) - 1)];
    }
}
