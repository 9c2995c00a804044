using System.Globalization;
using Platform.Benchmarks;
using Platform.TestSupport;

// Usage: dotnet run -c Release -- <model|tools|plans|runs> [seconds per step]
var suite = args.Length > 0 ? args[0] : "model";
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 5;
await using var platform = await PlatformApp.StartAsync();
var report = suite switch
{
    "model" => await ModelGatewaySuite.RunAsync(platform, seconds),
    "tools" => await ToolServiceSuite.RunAsync(platform, seconds),
    "plans" => await PlanningSuite.RunAsync(platform, seconds),
    "runs" => await RunsSuite.RunAsync(platform, seconds),
    _ => throw new ArgumentException($"Unknown suite '{suite}': model, tools, plans or runs."),
};

Console.WriteLine();
Console.WriteLine($"{Environment.ProcessorCount} cores, {seconds} s per step after a 1 s warm-up.");
Console.WriteLine(report);
