using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Platform.Benchmarks;
using Platform.TestSupport;

// Gateway overhead and throughput against a local mock upstream, with auth, rate limits, budgets and the usage ledger
// on, compared in the same run with calling the mock upstream directly. Usage: dotnet run -c Release [seconds per step]
var seconds = args.Length > 0 ? double.Parse(args[0], CultureInfo.InvariantCulture) : 5;
await using var upstream = await MockUpstream.StartAsync();
await using var platform = await AppHostProcess.StartAsync();
var key = await Setup.TenantWithLimitsAsync(platform, upstream.BaseUrl);

using var direct = new HttpClient { BaseAddress = new Uri(upstream.BaseUrl + "/") };
using var gateway = platform.Client("model", key);
var body = """{"model":"bench","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}""";
var cached = """{"model":"bench","temperature":0,"messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}""";

var report = new StringBuilder();
report.AppendLine(CultureInfo.InvariantCulture, $"{"scenario",-34} {"conc",5} {"req/s",9} {"p50 ms",8} {"p99 ms",8} {"ovh p50",8} {"ovh p99",8} {"errors",7}");
foreach (var concurrency in new[] { 1, 50, 200 })
{
    await Load.RunAsync(direct, "chat/completions", body, concurrency, TimeSpan.FromSeconds(1));
    report.AppendLine((await Load.RunAsync(direct, "chat/completions", body, concurrency, TimeSpan.FromSeconds(seconds))).Row("mock upstream, direct", concurrency));
    await Load.RunAsync(gateway, "v1/chat/completions", body, concurrency, TimeSpan.FromSeconds(1));
    report.AppendLine((await Load.RunAsync(gateway, "v1/chat/completions", body, concurrency, TimeSpan.FromSeconds(seconds))).Row("gateway -> mock upstream", concurrency));
    await Load.RunAsync(gateway, "v1/chat/completions", cached, concurrency, TimeSpan.FromSeconds(1));
    report.AppendLine((await Load.RunAsync(gateway, "v1/chat/completions", cached, concurrency, TimeSpan.FromSeconds(seconds))).Row("gateway cache hit", concurrency));
}

Console.WriteLine();
Console.WriteLine($"{Environment.ProcessorCount} cores, {seconds} s per step after a 1 s warm-up; ovh = x-platform-overhead-ms (gateway time without upstream).");
Console.WriteLine(report);
