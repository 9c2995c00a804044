using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// Durable runs through the orchestrator beside LangGraph JS, in the same session, on the same PostgreSQL server.
/// Like for like: our plan-mode agent whose planner and three streamed model steps go to the mock upstream, against a
/// LangGraph graph with the PostgresSaver and durability "sync" whose planner node and three step nodes make the same
/// calls to the same mock. Engine only: our agent on the simulator (the same shape, the model work in the gateway)
/// against LangGraph's three nodes of trivial work with durability "async"; we have no runs without model calls, so
/// this pair does not do equal work, and is kept to show the engines' floors. Each batch of the like-for-like pair is
/// counted: SQL statements and transactions per run (pg_stat_statements, pg_stat_database), HTTP requests per run (the
/// services' request counters and the mock's), and CPU per run of every process on the machine.
/// </summary>
internal static class RunsSuite
{
    private const string SimulatorAgent = "bench-simulator";
    private const string UpstreamAgent = "bench-upstream";
    /// <summary>
    /// Each side runs this long at the batch's concurrency before it is measured: .NET's tiered JIT needs several seconds
    /// of calls before five services run optimised code (a 1 s warm-up left the first batch at a third of its speed).
    /// </summary>
    public static readonly TimeSpan Warmup = TimeSpan.FromSeconds(10);

    private static readonly string Header = $"{"scenario",-40} {"conc",5} {"runs/s",9} {"p50 ms",8} {"p99 ms",8} {"disp p50",8} {"disp p99",8} {"errors",7}";

    public static async Task<string> RunAsync(PlatformApp platform, double seconds, IReadOnlyList<int> concurrencies)
    {
        await DatabaseCounters.EnableStatementStatisticsAsync(platform);
        await LangGraphAnchor.PrepareAsync(platform);
        await using var upstream = await PlanningUpstream.StartAsync();
        var key = await Setup.TenantWithLimitsAsync(platform, upstream.BaseUrl);
        using (var agents = platform.Client("orchestrator", key))
        {
            (await agents.PostAsJsonAsync("/v1/agents", new { name = SimulatorAgent, instructions = "Be brief.", model = "simulator", mode = "plan" })).EnsureSuccessStatusCode();
            (await agents.PostAsJsonAsync("/v1/agents", new { name = UpstreamAgent, instructions = "Be brief.", model = "bench", mode = "plan" })).EnsureSuccessStatusCode();
        }

        using var orchestrator = platform.DirectClient("orchestrator", key);
        var simulator = new RunLoad(orchestrator, SimulatorAgent);
        var upstreamRuns = new RunLoad(orchestrator, UpstreamAgent);
        await simulator.CheckShapeAsync();
        await upstreamRuns.CheckShapeAsync();

        // Before the first batch, as in Load.WarmUpAsync: the services' tiered JIT needs more calls than one batch's warm-up.
        await upstreamRuns.MeasureAsync(8, TimeSpan.FromSeconds(20));
        await simulator.MeasureAsync(8, TimeSpan.FromSeconds(10));
        var report = new StringBuilder(Header).AppendLine();
        var counts = new StringBuilder();
        var ratios = new Dictionary<(string, int), double>();
        foreach (var concurrency in concurrencies)
        {
            var duration = TimeSpan.FromSeconds(seconds);
            await upstreamRuns.MeasureAsync(concurrency, Warmup);
            var before = await Snapshot.TakeAsync(platform, upstream);
            var ours = await upstreamRuns.MeasureAsync(concurrency, duration);
            counts.AppendLine($"ours, like for like, c={concurrency} ({ours.Runs.Count} runs):")
                .Append((await Snapshot.TakeAsync(platform, upstream)).PerRun(before, ours.Runs.Count, platform, null));
            var (oursRow, oursPhases) = await ours.RowAsync("ours: planner + 3 streamed steps, mock", orchestrator, concurrency);
            report.AppendLine(oursRow);
            counts.AppendLine(oursPhases);

            var snapshots = new List<(Snapshot Counted, int NodePid)>();
            var langGraph = await LangGraphAnchor.RunAsync(platform, "planned", "sync", concurrency, seconds, upstream.BaseUrl,
                async pid => snapshots.Add((await Snapshot.TakeAsync(platform, upstream), pid)));
            counts.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"LangGraph, like for like, c={concurrency} ({langGraph.Runs} runs; its own count: {langGraph.StatementsPerRun:0.0} statements, {langGraph.TransactionsPerRun:0.0} BEGINs per run):"))
                .Append(snapshots[1].Counted.PerRun(snapshots[0].Counted, langGraph.Runs, platform, snapshots[0].NodePid));
            report.AppendLine(langGraph.Row("LangGraph: planner + 3 streamed nodes, sync", concurrency));
            ratios[("like-for-like", concurrency)] = ours.RunsPerSecond / langGraph.RunsPerSecond;

            await simulator.MeasureAsync(concurrency, Warmup);
            var engine = await simulator.MeasureAsync(concurrency, duration);
            var (engineRow, enginePhases) = await engine.RowAsync("ours: planner + 3 steps, simulator", orchestrator, concurrency);
            report.AppendLine(engineRow);
            counts.AppendLine(enginePhases);
            var noop = await LangGraphAnchor.RunAsync(platform, "noop", "async", concurrency, seconds, null);
            report.AppendLine(noop.Row("LangGraph: 3 no-op nodes, async", concurrency));
            ratios[("engine only", concurrency)] = engine.RunsPerSecond / noop.RunsPerSecond;
        }

        report.AppendLine("disp = the start of a step's first attempt less the finish of the steps it depends on (the first step's: the run.planned event).")
            .Append(counts);
        foreach (var comparison in new[] { "like-for-like", "engine only" })
        {
            report.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"runs vs LangGraph ({comparison}): {string.Join(", ", concurrencies.Select(c => string.Create(CultureInfo.InvariantCulture, $"c={c} {ratios[(comparison, c)]:0.00}x")))}"));
        }

        return report.ToString();
    }

    /// <summary>Everything counted at one moment: database statements and transactions, HTTP requests, CPU per process.</summary>
    private sealed record Snapshot(DatabaseCounters Database, long ServiceRequests, int UpstreamRequests, ProcessCpu Cpu)
    {
        public static async Task<Snapshot> TakeAsync(PlatformApp platform, PlanningUpstream upstream)
        {
            var database = await DatabaseCounters.ReadAsync(platform);
            return new Snapshot(database, await HttpCounters.ReadAsync(platform), upstream.Requests, ProcessCpu.Read());
        }

        public string PerRun(Snapshot before, int runs, PlatformApp platform, int? nodePid)
        {
            var names = PlatformApp.Services.SelectMany(s => platform.Replicas(s).Where(r => r.Pid is not null).Select(r => (r.Pid!.Value, s)))
                .Append((Environment.ProcessId, "load generator + mock"))
                .Concat(nodePid is { } pid ? [(pid, "langgraph (node)")] : [])
                .ToDictionary(p => p.Item1, p => p.Item2);
            return new StringBuilder()
                .Append(Database.PerRun(before.Database, runs))
                .AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"HTTP requests/run: {(ServiceRequests - before.ServiceRequests) / (double)runs:0.00} served by the platform's services, {(UpstreamRequests - before.UpstreamRequests) / (double)runs:0.00} by the mock upstream"))
                .Append(Cpu.PerRun(before.Cpu, runs, names))
                .ToString();
        }
    }
}
