using System.Globalization;
using System.Text;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// Gateway overhead and throughput against a local mock upstream, with auth, rate limits, budgets and the usage ledger
/// on, compared in the same run with calling the mock upstream directly.
/// </summary>
internal static class ModelGatewaySuite
{
    private const string Body = """{"model":"bench","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}""";

    public static async Task<string> RunAsync(PlatformApp platform, double seconds)
    {
        await using var upstream = await MockUpstream.StartAsync();
        var key = await Setup.TenantWithLimitsAsync(platform, upstream.BaseUrl);
        using var direct = new HttpClient { BaseAddress = new Uri(upstream.BaseUrl + "/") };
        using var gateway = platform.DirectClient("model", key);
        var cached = """{"model":"bench","temperature":0,"messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}""";

        var gatewayPid = platform.Replicas("model")[0].Pid;
        await Load.WarmUpAsync(gateway, "v1/chat/completions", _ => Body, TimeSpan.FromSeconds(20));
        await Load.WarmUpAsync(gateway, "v1/chat/completions", _ => cached, TimeSpan.FromSeconds(10));
        var report = new StringBuilder(Load.Header).AppendLine();
        foreach (var concurrency in new[] { 1, 50, 200 })
        {
            report.AppendLine(await Load.MeasureAsync("mock upstream, direct", direct, "chat/completions", _ => Body, concurrency, seconds));
            report.AppendLine(await Load.MeasureAsync("gateway -> mock upstream", gateway, "v1/chat/completions", _ => Body, concurrency, seconds, servicePid: gatewayPid));
            report.AppendLine(await Load.MeasureAsync("gateway cache hit", gateway, "v1/chat/completions", _ => cached, concurrency, seconds, servicePid: gatewayPid));
        }

        return report.Append("ovh = x-platform-overhead-ms (gateway time without upstream); cpu/req = the gateway process's CPU ms per request.").ToString();
    }

    /// <summary>
    /// The gateway as <c>dotnet run --project AppHost</c> runs it: the AppHost a process of its own with the Aspire
    /// dashboard, every service exporting its traces, metrics and logs there over OTLP. Compare its rows with the
    /// <c>model</c> suite's, run in the same session, for what telemetry costs a request.
    /// </summary>
    public static async Task<string> RunTracedAsync(AppHostProcess host, double seconds)
    {
        await using var upstream = await MockUpstream.StartAsync();
        var key = await Setup.TenantWithLimitsAsync(service => host.Service(service)!.Value.Url, host.AdminApiKey, upstream.BaseUrl);
        var (gatewayPid, gatewayUrl) = host.Service("model")!.Value;
        using var gateway = PlatformApp.ClientFor(gatewayUrl, key);
        await Load.WarmUpAsync(gateway, "v1/chat/completions", _ => Body, TimeSpan.FromSeconds(20));
        var report = new StringBuilder(Load.Header).AppendLine();
        foreach (var concurrency in new[] { 1, 50 })
        {
            report.AppendLine(await Load.MeasureAsync("gateway -> mock, traces to dashboard", gateway, "v1/chat/completions", _ => Body, concurrency, seconds,
                servicePid: gatewayPid));
        }

        return report.Append("The AppHost run as a process, with the Aspire dashboard receiving every service's OTLP traces, metrics and logs.").ToString();
    }
}
