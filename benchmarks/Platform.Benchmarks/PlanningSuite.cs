using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// Plans per second through the planning service on the simulator: the LLM planner (tool listing, price lookup, one
/// gateway completion, validation, estimates, one insert), with a new goal each time and with one goal repeated (the
/// gateway's cache answers), and a manual plan (no completion). Overhead is the planner's own
/// <c>x-platform-planner-overhead-ms</c>: its time with the gateway completion subtracted.
/// </summary>
internal static class PlanningSuite
{
    private const string OverheadHeader = "x-platform-planner-overhead-ms";

    public static async Task<string> RunAsync(PlatformApp platform, double seconds)
    {
        var key = await Setup.TenantWithLimitsAsync(platform, null);
        using (var tools = platform.Client("tool", key))
        {
            (await tools.PutAsJsonAsync("/v1/tools/http.weather", new
            {
                description = "Current weather for a city",
                sideEffect = "read_only",
                parameters = new { type = "object", properties = new { city = new { type = "string" } }, required = new[] { "city" } },
                http = new { method = "GET", url = "https://weather.example.com/v1/{city}" },
            })).EnsureSuccessStatusCode();
        }

        using var planning = platform.DirectClient("planning", key);
        var goals = 0;
        string Llm(int n) => JsonSerializer.Serialize(new
        {
            goal = $"fetch the weather for Paris, then convert {n} C to F, and summarise both",
            tools = new[] { "http.weather", "builtin.calculator" },
        });
        var manual = JsonSerializer.Serialize(new
        {
            goal = "fetch the weather for Paris, then convert 20 C to F, and summarise both",
            steps = new object[]
            {
                new { id = "weather", title = "Fetch the weather", kind = "tool", tool = "http.weather", arguments = new { city = "Paris" } },
                new { id = "convert", title = "Convert", kind = "tool", tool = "builtin.calculator", arguments = new { expression = "20 * 9 / 5 + 32" }, dependsOn = new[] { "weather" } },
                new { id = "summarise", title = "Summarise both", kind = "model", dependsOn = new[] { "weather", "convert" },
                    arguments = new { weather = "{{steps.weather.output}}", convert = "{{steps.convert.output.value}}" } },
            },
        });

        // The rows stand for one gateway completion per plan only if the simulator's first answer is accepted.
        using (var first = await planning.PostAsync("v1/plans", new StringContent(Llm(0), Encoding.UTF8, "application/json")))
        {
            var plan = await first.EnsureSuccessStatusCode().Content.ReadFromJsonAsync<JsonElement>();
            if (plan.GetProperty("planner").GetProperty("attempts").GetInt32() != 1)
            {
                throw new InvalidOperationException($"The LLM planner needed more than one completion: {plan}");
            }
        }

        var report = new StringBuilder(Load.Header).AppendLine();
        foreach (var concurrency in new[] { 1, 16 })
        {
            report.AppendLine(await Load.MeasureAsync("llm planner, simulator, new goal", planning, "v1/plans",
                _ => Llm(Interlocked.Increment(ref goals)), concurrency, seconds, OverheadHeader));
            report.AppendLine(await Load.MeasureAsync("llm planner, simulator, cache hit", planning, "v1/plans", _ => Llm(0), concurrency, seconds, OverheadHeader));
            report.AppendLine(await Load.MeasureAsync("manual plan, 3 steps", planning, "v1/plans", _ => manual, concurrency, seconds, OverheadHeader));
        }

        return report.Append("ovh = x-platform-planner-overhead-ms (planning service time without the gateway completion).").ToString();
    }
}
