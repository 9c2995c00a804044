using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Benchmarks;

/// <summary>
/// A closed loop of workers, each starting a run of <paramref name="agent"/> (<c>POST /v1/runs</c>) and reading its
/// event stream, token deltas included, to the final event; the latency is from the POST to that event.
/// </summary>
internal sealed class RunLoad(HttpClient orchestrator, string agent)
{
    private static readonly string[] FinalEvents = ["run.succeeded", "run.failed", "run.cancelled", "run.timed_out"];
    private int _goals;

    /// <summary>A new goal each run, so that the planner's completion is never answered from the gateway's cache.</summary>
    private string Goal() => $"Outline topic {Interlocked.Increment(ref _goals)}, then draft a paragraph, then summarise it";

    /// <summary>One run, read back: it must be three model steps one after another that succeeded, or the rows stand for nothing.</summary>
    public async Task CheckShapeAsync()
    {
        var first = await orchestrator.GetFromJsonAsync<JsonElement>($"v1/runs/{(await RunOnceAsync()).Id}");
        var steps = first.GetProperty("steps").EnumerateArray().ToList();
        if (first.GetProperty("state").GetString() != "succeeded" || steps.Count != 3 || steps.Any(s => s.GetProperty("kind").GetString() != "model")
            || Enumerable.Range(1, 2).Any(i => !steps[i].GetProperty("dependsOn").EnumerateArray().Any(d => d.GetString() == steps[i - 1].GetProperty("id").GetString())))
        {
            throw new InvalidOperationException($"The run is not three model steps one after another that succeeded: {first}");
        }
    }

    public async Task<RunBatch> MeasureAsync(int concurrency, TimeSpan duration)
    {
        var runs = new List<FinishedRun>[concurrency];
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async worker =>
        {
            runs[worker] = [];
            while (stopwatch.Elapsed < duration)
            {
                runs[worker].Add(await RunOnceAsync());
            }
        }));
        return new RunBatch([.. runs.SelectMany(r => r)], stopwatch.Elapsed);
    }

    private async Task<FinishedRun> RunOnceAsync()
    {
        var started = Stopwatch.GetTimestamp();
        using var accepted = await orchestrator.PostAsJsonAsync("v1/runs", new { agent, goal = Goal() });
        if (accepted.StatusCode != HttpStatusCode.Accepted)
        {
            return new FinishedRun(null, Stopwatch.GetElapsedTime(started).TotalMilliseconds, null, null, $"POST {(int)accepted.StatusCode}");
        }

        var id = (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        using var events = await orchestrator.GetAsync($"v1/runs/{id}/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync(timeout.Token));
        DateTimeOffset? planning = null, planned = null;
        var type = "";
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
                if (FinalEvents.Contains(type))
                {
                    return new FinishedRun(id, Stopwatch.GetElapsedTime(started).TotalMilliseconds, planning, planned, type);
                }
            }
            else if (type is "run.planning" or "run.planned" && line.StartsWith("data: ", StringComparison.Ordinal))
            {
                using var data = JsonDocument.Parse(line["data: ".Length..]);
                var at = data.RootElement.GetProperty("at").GetDateTimeOffset();
                if (type == "run.planning")
                {
                    planning = at;
                }
                else
                {
                    planned = at;
                }
            }
        }

        return new FinishedRun(id, Stopwatch.GetElapsedTime(started).TotalMilliseconds, planning, planned, "stream ended early");
    }
}

/// <summary>A run a worker saw to its end: its final event (or what went wrong), when planning began and when it was planned.</summary>
internal sealed record FinishedRun(string? Id, double LatencyMs, DateTimeOffset? Planning, DateTimeOffset? Planned, string End);

internal sealed record RunBatch(List<FinishedRun> Runs, TimeSpan Elapsed)
{
    public int Succeeded => Runs.Count(r => r.End == "run.succeeded");

    public double RunsPerSecond => Succeeded / Elapsed.TotalSeconds;

    /// <summary>
    /// The report row, and where a run's time went (medians): accepted to the <c>run.planning</c> event (a worker took the
    /// run), from there to <c>run.planned</c> (the planning call and the plan's commit), each step from
    /// its first attempt's start to its finish, dispatch (the start of a step's first attempt, on the executor's clock,
    /// less the moment it became ready: the last finish of the steps it depends on, or the run's <c>run.planned</c>
    /// event for the first), the last step's finish to the run's, and what is left of the client's latency (the POST,
    /// opening the event stream, reading its end). Each run is read back after the batch, outside its time and counts.
    /// </summary>
    public async Task<(string Row, string Phases)> RowAsync(string scenario, HttpClient orchestrator, int concurrency)
    {
        var succeeded = Runs.Where(r => r.End == "run.succeeded").ToList();
        var errors = Runs.Count - succeeded.Count;
        var dispatch = new List<double>();
        var phases = new Dictionary<string, List<double>>();
        void Add(string phase, double ms) => (phases.TryGetValue(phase, out var list) ? list : phases[phase] = []).Add(ms);
        foreach (var finished in succeeded)
        {
            var run = await orchestrator.GetFromJsonAsync<JsonElement>($"v1/runs/{finished.Id}");
            var steps = run.GetProperty("steps").EnumerateArray().ToList();
            var byId = steps.ToDictionary(s => s.GetProperty("id").GetString()!);
            if (steps.Count != 3 || finished.Planning is not { } planning || finished.Planned is not { } planned)
            {
                errors++;
                continue;
            }

            var created = run.GetProperty("createdAt").GetDateTimeOffset();
            var ended = run.GetProperty("finishedAt").GetDateTimeOffset();
            Add("accepted to planning", (planning - created).TotalMilliseconds);
            Add("planning", (planned - planning).TotalMilliseconds);
            for (var i = 0; i < steps.Count; i++)
            {
                var step = steps[i];
                var started = step.GetProperty("attemptLog")[0].GetProperty("startedAt").GetDateTimeOffset();
                var ready = step.GetProperty("dependsOn").EnumerateArray().Select(d => byId[d.GetString()!].GetProperty("finishedAt").GetDateTimeOffset())
                    .DefaultIfEmpty(planned).Max();
                dispatch.Add((started - ready).TotalMilliseconds);
                Add($"step {i + 1}", (step.GetProperty("finishedAt").GetDateTimeOffset() - started).TotalMilliseconds);
            }

            Add("last step to run end", (ended - steps.Max(s => s.GetProperty("finishedAt").GetDateTimeOffset())).TotalMilliseconds);
            Add("client (POST, stream open and end)", finished.LatencyMs - (ended - created).TotalMilliseconds);
        }

        var latencies = succeeded.Select(r => r.LatencyMs).Order().ToArray();
        var dispatches = dispatch.Order().ToArray();
        var row = string.Create(CultureInfo.InvariantCulture,
            $"{scenario,-40} {concurrency,5} {RunsPerSecond,9:0.0} {Load.Percentile(latencies, 0.5),8:0.00} {Load.Percentile(latencies, 0.99),8:0.00} {Load.Percentile(dispatches, 0.5),8:0.00} {Load.Percentile(dispatches, 0.99),8:0.00} {errors,7}");
        var breakdown = string.Join(", ", phases.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key} {Load.Percentile([.. p.Value.Order()], 0.5):0.0}")));
        return (row, $"{scenario}, c={concurrency}, median ms: {breakdown}, dispatch {Load.Percentile(dispatches, 0.5):0.0}");
    }
}
