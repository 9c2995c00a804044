using System.Net.Http.Json;
using System.Text;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// Invocation overhead of the tool service: a built-in tool with a new idempotency key each call (claim, execute and
/// record: the full exactly-once path), the same call replayed from its record, and an MCP tool over stdio.
/// </summary>
internal static class ToolServiceSuite
{
    public static async Task<string> RunAsync(PlatformApp platform, double seconds)
    {
        using var tools = platform.DirectClient("tool", platform.AdminApiKey);
        var server = Path.Combine(Repository.Root, "tests", "mcp", "node_modules", ".bin", "mcp-server-everything");
        (await tools.PutAsJsonAsync("/v1/mcp-servers/bench", new { transport = "stdio", command = server, args = new[] { "stdio" } })).EnsureSuccessStatusCode();
        var replayKey = Guid.NewGuid().ToString();

        var report = new StringBuilder(Load.Header).AppendLine();
        foreach (var concurrency in new[] { 1, 16 })
        {
            report.AppendLine(await Load.MeasureAsync("builtin.calculator, new key", tools, "v1/tools/builtin.calculator/invocations",
                _ => $$$"""{"idempotencyKey":"{{{Guid.NewGuid()}}}","arguments":{"expression":"2 * (3 + 4)"}}""", concurrency, seconds));
            report.AppendLine(await Load.MeasureAsync("builtin.calculator, replayed key", tools, "v1/tools/builtin.calculator/invocations",
                _ => $$$"""{"idempotencyKey":"{{{replayKey}}}","arguments":{"expression":"2 * (3 + 4)"}}""", concurrency, seconds));
            report.AppendLine(await Load.MeasureAsync("mcp echo over stdio, new key", tools, "v1/tools/mcp.bench.echo/invocations",
                _ => $$$"""{"idempotencyKey":"{{{Guid.NewGuid()}}}","arguments":{"message":"hi"}}""", concurrency, seconds));
        }

        return report.ToString();
    }
}
