using System.Text;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// The gateway's embedded embedding model (all-MiniLM-L6-v2 on CPU, alias <c>embeddings</c>): requests of one sentence
/// and of 32, one client at a time and four at once (which the model's batching folds into shared inferences).
/// </summary>
internal static class EmbeddingsSuite
{
    public static async Task<string> RunAsync(PlatformApp platform, double seconds)
    {
        var key = await Setup.TenantWithLimitsAsync(platform, null);
        using var gateway = platform.DirectClient("model", key);
        var report = new StringBuilder(Load.Header).AppendLine();
        foreach (var batch in new[] { 1, 32 })
        {
            var body = JsonSerializer.Serialize(new
            {
                model = "embeddings",
                input = Enumerable.Range(0, batch).Select(i => $"Sentence {i} of the benchmark, about the weather and the football results today.").ToArray(),
            });
            await Load.WarmUpAsync(gateway, "v1/embeddings", _ => body, TimeSpan.FromSeconds(5));
            foreach (var concurrency in new[] { 1, 4 })
            {
                report.AppendLine(await Load.MeasureAsync($"local-minilm, {batch} input(s) per request", gateway, "v1/embeddings", _ => body, concurrency, seconds,
                    servicePid: platform.Replicas("model")[0].Pid));
            }
        }

        return report.Append("Embeddings per second = req/s x inputs per request; cpu/req = the gateway process's CPU ms per request, inference included.").ToString();
    }
}
