using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Tests;

/// <summary>What the run tests share: an agent whose plans call a counting HTTP tool, starting runs and waiting for them.</summary>
internal static class Runs
{
    public const string RecordTool = "http.record";

    /// <summary>Three steps on the simulator's planner: a model step, the counter tool (given the quoted token), a model step.</summary>
    public static string ThreeStepGoal(string token) => $"draft a short greeting, then record \"{token}\" with the counter, then write a confirmation";

    /// <summary>A tenant key's tool service gets the counting tool, granted the test's server on loopback.</summary>
    public static async Task AddRecordToolAsync(PlatformApp app, string key, CountingServer server, string path = "record", string name = RecordTool)
    {
        using var tool = app.Client("tool", key);
        await app.GrantPrivateAsync(key, server.Url.ToString());
        (await tool.PutAsJsonAsync($"/v1/tools/{name}", new
        {
            description = "Record a token with the counter",
            sideEffect = "side_effecting",
            parameters = new { type = "object", properties = new { run = new { type = "string" } }, required = new[] { "run" } },
            http = new { method = "POST", url = $"{server.Url}{path}" },
        })).EnsureSuccessStatusCode();
    }

    public static async Task CreateAgentAsync(PlatformApp app, string key, string name, object? extra = null, params string[] tools)
    {
        using var orchestrator = app.Client("orchestrator", key);
        var body = JsonSerializer.SerializeToNode(new { name, instructions = "Be brief.", model = "simulator", mode = "plan", tools })!.AsObject();
        if (extra is not null)
        {
            foreach (var (property, value) in JsonSerializer.SerializeToNode(extra)!.AsObject())
            {
                body[property] = value?.DeepClone();
            }
        }

        using var response = await orchestrator.PostAsJsonAsync("/v1/agents", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public static async Task<JsonElement> StartAsync(
        HttpClient orchestrator, string agent, string goal, string? idempotencyKey = null, string? webhookUrl = null, string? input = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/runs") { Content = JsonContent.Create(new { agent, goal, webhookUrl, input }) };
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await orchestrator.SendAsync(request);
        Assert.True(response.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<JsonElement> GetAsync(HttpClient orchestrator, string runId) =>
        await orchestrator.GetFromJsonAsync<JsonElement>($"/v1/runs/{runId}");

    /// <summary>Waits until the run is in one of <paramref name="states"/> (by default, any final state) and answers it.</summary>
    public static async Task<JsonElement> WaitForAsync(HttpClient orchestrator, string runId, TimeSpan timeout, params string[] states)
    {
        states = states.Length > 0 ? states : ["succeeded", "failed", "cancelled", "timed_out"];
        return await WaitUntilAsync($"run {runId} to be {string.Join(" or ", states)}", timeout, () => GetAsync(orchestrator, runId),
            run => states.Contains(run.GetProperty("state").GetString()), run => run.ToString());
    }

    public static string State(this JsonElement run) => run.GetProperty("state").GetString()!;

    public static string Id(this JsonElement run) => run.GetProperty("id").GetString()!;

    public static IEnumerable<JsonElement> Steps(this JsonElement run) => run.GetProperty("steps").EnumerateArray();
}
