using System.Globalization;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>HTTP requests the platform's services served, summed from each replica's <c>/metrics</c> (ASP.NET Core's request counter).</summary>
internal static class HttpCounters
{
    private const string Counter = "http_server_request_duration_seconds_count";

    public static async Task<long> ReadAsync(PlatformApp platform)
    {
        long total = 0;
        foreach (var service in PlatformApp.Services)
        {
            foreach (var replica in platform.Replicas(service).Where(r => r.Url is not null))
            {
                using var client = PlatformApp.ClientFor(replica.Url!, platform.AdminApiKey);
                var metrics = await client.GetStringAsync("/metrics");
                total += metrics.Split('\n').Where(l => l.StartsWith(Counter, StringComparison.Ordinal))
                    .Sum(l => (long)double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
            }
        }

        return total;
    }
}
