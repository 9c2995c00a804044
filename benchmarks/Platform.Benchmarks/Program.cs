using System.Globalization;
using Platform.Benchmarks;
using Platform.TestSupport;

// Usage: dotnet run -c Release -- <model|traced|embeddings|tools|plans|runs> [seconds per step] [runs: concurrencies, default 1,20]
var suite = args.Length > 0 ? args[0] : "model";
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
int[] runConcurrencies = args.Length > 2 ? [.. args[2].Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture))] : [1, 20];
// Runtime settings to try on every service without a rebuild, as "NAME=value;NAME=value" (DOTNET_gcServer=0, say).
var serviceEnvironment = (Environment.GetEnvironmentVariable("BENCH_SERVICE_ENVIRONMENT") ?? "")
    .Split(';', StringSplitOptions.RemoveEmptyEntries).Select(pair => pair.Split('=', 2))
    .SelectMany(pair => PlatformApp.Services.Select(service => (service, pair[0], pair[1])));
string report;
if (suite == "traced")
{
    await using var host = await AppHostProcess.StartAsync();
    report = await ModelGatewaySuite.RunTracedAsync(host, seconds);
}
else
{
    await using var platform = await PlatformApp.StartAsync(serviceEnvironment);
    report = suite switch
    {
        "model" => await ModelGatewaySuite.RunAsync(platform, seconds),
        "embeddings" => await EmbeddingsSuite.RunAsync(platform, seconds),
        "tools" => await ToolServiceSuite.RunAsync(platform, seconds),
        "plans" => await PlanningSuite.RunAsync(platform, seconds),
        "runs" => await RunsSuite.RunAsync(platform, seconds, runConcurrencies),
        _ => throw new ArgumentException($"Unknown suite '{suite}': model, traced, embeddings, tools, plans or runs."),
    };
}

Console.WriteLine();
Console.WriteLine($"{Environment.ProcessorCount} cores, {seconds} s per step, each after its warm-up.");
Console.WriteLine(report);
