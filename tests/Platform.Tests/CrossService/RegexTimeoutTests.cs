using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests.CrossService;

/// <summary>
/// A tenant's JSON Schema pattern that backtracks without end (<c>^(a+)+$</c> against <c>aaa…a!</c>) is matched under
/// the default timeout every service sets, in planning (plan arguments) and in the orchestrator (a run's output), not
/// only in the tool service: the request or the run fails with the reason, and no core stays pinned. Without the
/// timeout either would take longer than the age of the universe, so these tests time out instead of passing.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class RegexTimeoutTests(PlatformFixture platform) : IAsyncLifetime
{
    private const string Backtracking = "^(a+)+$";
    private static readonly string Hostile = new string('a', 40) + "!";
    private CountingServer _server = null!;

    public async Task InitializeAsync() => _server = await CountingServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task PlanningRefusesArgumentsWhosePatternMatchTakesTooLong()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var tool = platform.AppHost.Client("tool", key);
        (await tool.PutAsJsonAsync("/v1/tools/http.patterned", new
        {
            description = "Takes a patterned value",
            sideEffect = "read_only",
            parameters = new { type = "object", properties = new { value = new { type = "string", pattern = Backtracking } } },
            http = new { method = "GET", url = "https://api.example.com/items" },
        })).EnsureSuccessStatusCode();
        using var planning = platform.AppHost.Client("planning", key);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new
        {
            goal = "g",
            steps = new[] { new { id = "a", title = "A", kind = "tool", tool = "http.patterned", arguments = new { value = Hostile } } },
        });

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Contains("took too long", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARunWhoseOutputMatchesAnOutputSchemaPatternTooSlowlyFailsWithTheReason()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await Runs.AddRecordToolAsync(platform.AppHost, key, _server, path: "undo", name: "http.undo");
        await Runs.CreateAgentAsync(platform.AppHost, key, "patterned", new
        {
            outputSchema = new
            {
                type = "object",
                properties = new { body = new { type = "object", properties = new { undone = new { type = "string", pattern = Backtracking } } } },
            },
        }, "http.undo");
        using var orchestrator = platform.AppHost.Client("orchestrator", key);

        var started = await Runs.StartAsync(orchestrator, "patterned", $"undo \"{Hostile}\" with the counter");
        var run = await Runs.WaitForAsync(orchestrator, started.Id(), TimeSpan.FromSeconds(60));

        Assert.Equal("failed", run.State());
        Assert.Equal(Hostile, _server.UndoneByRun.Keys.Single(k => k.EndsWith('!')));
        Assert.Contains("took too long", run.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }
}
