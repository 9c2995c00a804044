using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// Durable runs through the orchestrator: a plan-mode agent on the simulator whose goal the planner splits into three
/// model steps, one after another, each a streamed completion through the model gateway with the run's key. Each
/// worker starts a run (<c>POST /v1/runs</c>) and reads its event stream until the final event; the latency is from the
/// POST to that event. Dispatch is the start of a step's first attempt (the executor's clock, from the attempt log)
/// less the moment the step became ready: the last finish of the steps it depends on, or the run's <c>run.planned</c>
/// event for the first. A step's own <c>startedAt</c> is the time of the commit that made it ready, so it cannot serve.
/// Over the concurrency-20 batch the platform's databases count statements and transactions.
/// </summary>
internal static class RunsSuite
{
    private const string Agent = "bench";
    private static readonly string Header = $"{"scenario",-36} {"conc",5} {"runs/s",9} {"p50 ms",8} {"p99 ms",8} {"disp p50",8} {"disp p99",8} {"errors",7}";
    private static readonly string[] FinalEvents = ["run.succeeded", "run.failed", "run.cancelled", "run.timed_out"];

    public static async Task<string> RunAsync(PlatformApp platform, double seconds)
    {
        await DatabaseCounters.EnableStatementStatisticsAsync(platform);
        var key = await Setup.TenantWithLimitsAsync(platform, null);
        using (var agents = platform.Client("orchestrator", key))
        {
            (await agents.PostAsJsonAsync("/v1/agents", new { name = Agent, instructions = "Be brief.", model = "simulator", mode = "plan" })).EnsureSuccessStatusCode();
        }

        using var orchestrator = platform.DirectClient("orchestrator", key);
        var goals = 0;

        // A new goal each run, so that the planner's completion is not answered from the gateway's cache.
        string Goal() => $"Outline topic {Interlocked.Increment(ref goals)}, then draft a paragraph, then summarise it";

        // The rows stand for three model steps one after another only if the planner makes them so.
        var first = await orchestrator.GetFromJsonAsync<JsonElement>($"v1/runs/{(await RunOnceAsync(orchestrator, Goal())).Id}");
        var steps = first.GetProperty("steps").EnumerateArray().ToList();
        if (first.GetProperty("state").GetString() != "succeeded" || steps.Count != 3 || steps.Any(s => s.GetProperty("kind").GetString() != "model")
            || Enumerable.Range(1, 2).Any(i => !steps[i].GetProperty("dependsOn").EnumerateArray().Any(d => d.GetString() == steps[i - 1].GetProperty("id").GetString())))
        {
            throw new InvalidOperationException($"The run is not three model steps one after another that succeeded: {first}");
        }

        var report = new StringBuilder(Header).AppendLine();
        var counted = "";
        foreach (var concurrency in new[] { 1, 20 })
        {
            await MeasureAsync(orchestrator, Goal, concurrency, TimeSpan.FromSeconds(1));
            var before = concurrency == 20 ? await DatabaseCounters.ReadAsync(platform) : null;
            var batch = await MeasureAsync(orchestrator, Goal, concurrency, TimeSpan.FromSeconds(seconds));
            if (before is not null)
            {
                counted = $"Over the concurrency-20 batch ({batch.Runs.Count} runs; the watching client's reads included):{Environment.NewLine}"
                    + (await DatabaseCounters.ReadAsync(platform)).PerRun(before, batch.Runs.Count);
            }

            report.AppendLine(await batch.RowAsync("3 model steps, simulator, sse watch", orchestrator, concurrency));
        }

        return report
            .AppendLine("disp = the start of a step's first attempt less the finish of the steps it depends on (the first step's: the run.planned event).")
            .Append(counted).ToString();
    }

    /// <summary>A closed loop of <paramref name="concurrency"/> workers, each starting a run and watching it to its end, for <paramref name="duration"/>.</summary>
    private static async Task<Batch> MeasureAsync(HttpClient orchestrator, Func<string> goal, int concurrency, TimeSpan duration)
    {
        var runs = new List<Finished>[concurrency];
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            runs[worker] = [];
            while (stopwatch.Elapsed < duration)
            {
                runs[worker].Add(await RunOnceAsync(orchestrator, goal()));
            }
        }));
        return new Batch([.. runs.SelectMany(r => r)], stopwatch.Elapsed);
    }

    private static async Task<Finished> RunOnceAsync(HttpClient orchestrator, string goal)
    {
        var started = Stopwatch.GetTimestamp();
        using var accepted = await orchestrator.PostAsJsonAsync("v1/runs", new { agent = Agent, goal });
        if (accepted.StatusCode != HttpStatusCode.Accepted)
        {
            return new Finished(null, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null, $"POST {(int)accepted.StatusCode}");
        }

        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var events = await orchestrator.GetAsync($"v1/runs/{id}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(timeout.Token));
        DateTimeOffset? planned = null;
        var type = "";
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
                if (FinalEvents.Contains(type))
                {
                    return new Finished(id, Stopwatch.GetElapsedTime(started).TotalMilliseconds, planned, type);
                }
            }
            else if (type == "run.planned" && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var data = JsonDocument.Parse(line["data: ".Length..]);
                planned = data.RootElement.GetProperty("at").GetDateTimeOffset();
            }
        }

        return new Finished(id, Stopwatch.GetElapsedTime(started).TotalMilliseconds, planned, "stream ended early");
    }

    /// <summary>A run a worker saw to its end: its final event (or what went wrong) and when it was planned.</summary>
    private sealed record Finished(string? Id, double LatencyMs, DateTimeOffset? Planned, string End);

    private sealed record Batch(List<Finished> Runs, TimeSpan Elapsed)
    {
        /// <summary>The report row; each run is read back (after the batch, so outside its time and counts) for its steps' times.</summary>
        public async Task<string> RowAsync(string scenario, HttpClient orchestrator, int concurrency)
        {
            var succeeded = Runs.Where(r => r.End == "run.succeeded").ToList();
            var errors = Runs.Count - succeeded.Count;
            var dispatch = new List<double>();
            foreach (var finished in succeeded)
            {
                var run = await orchestrator.GetFromJsonAsync<JsonElement>($"v1/runs/{finished.Id}");
                var steps = run.GetProperty("steps").EnumerateArray().ToDictionary(s => s.GetProperty("id").GetString()!);
                if (steps.Count != 3 || finished.Planned is not { } planned)
                {
                    errors++;
                    continue;
                }

                foreach (var step in steps.Values)
                {
                    var ready = step.GetProperty("dependsOn").EnumerateArray().Select(d => steps[d.GetString()!].GetProperty("finishedAt").GetDateTimeOffset())
                        .DefaultIfEmpty(planned).Max();
                    dispatch.Add((step.GetProperty("attemptLog")[0].GetProperty("startedAt").GetDateTimeOffset() - ready).TotalMilliseconds);
                }
            }

            var latencies = succeeded.Select(r => r.LatencyMs).Order().ToArray();
            var dispatches = dispatch.Order().ToArray();
            return string.Create(CultureInfo.InvariantCulture,
                $"{scenario,-36} {concurrency,5} {Runs.Count / Elapsed.TotalSeconds,9:0.0} {Load.Percentile(latencies, 0.5),8:0.00} {Load.Percentile(latencies, 0.99),8:0.00} {Load.Percentile(dispatches, 0.5),8:0.00} {Load.Percentile(dispatches, 0.99),8:0.00} {errors,7}");
        }
    }
}
