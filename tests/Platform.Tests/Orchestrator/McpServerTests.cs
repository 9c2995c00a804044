using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using Platform.TestSupport;

namespace Platform.Tests.Orchestrator;

/// <summary>
/// The orchestrator's MCP server at <c>/mcp</c>, driven by the official MCP clients (the C# SDK's and the TypeScript
/// SDK's): a tenant's agents are its tools, a call is a durable run with progress, a cancelled call cancels its run,
/// and another tenant's key sees none of them.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class McpServerTests(PlatformFixture platform)
{
    private const string ApprovalGoal = "draft a note, then approve it with a human, then write it up";

    [Fact]
    public async Task TheCSharpClientListsTheTenantsAgentsAndACallIsADurableRunWithProgress()
    {
        var (_, key) = await platform.NewTenantAsync("agents", "runs");
        await Runs.CreateAgentAsync(platform.AppHost, key, "writer", new { metadata = new { description = "Writes short notes." } });
        await Runs.CreateAgentAsync(platform.AppHost, key, "summarizer", new
        {
            outputSchema = new { type = "object", properties = new { answer = new { type = "string" } }, required = new[] { "answer" } },
        });
        await using var client = await ConnectAsync(key);

        var tools = await client.ListToolsAsync();
        Assert.Equal(["summarizer", "writer"], tools.Select(t => t.Name).Order(StringComparer.Ordinal));
        Assert.Equal("Writes short notes.", tools.Single(t => t.Name == "writer").Description);
        Assert.Equal(["goal"], tools[0].JsonSchema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("object", tools.Single(t => t.Name == "summarizer").ProtocolTool.OutputSchema?.GetProperty("type").GetString());

        var progress = new ConcurrentQueue<ProgressNotificationValue>();
        var result = await client.CallToolAsync("writer", new Dictionary<string, object?> { ["goal"] = "draft a note, then write it up" },
            new SynchronousProgress(progress.Enqueue));

        Assert.NotEqual(true, result.IsError);
        var runId = result.Meta!["platform/runId"]!.GetValue<string>();
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var run = await Runs.GetAsync(orchestrator, runId);
        Assert.Equal("succeeded", run.State());
        Assert.Equal(run.GetProperty("output").GetString(), Assert.IsType<ModelContextProtocol.Protocol.TextContentBlock>(result.Content[0]).Text);
        Assert.Equal("mcp", run.GetProperty("metadata").GetProperty("source").GetString());
        Assert.Contains(progress, p => p.Message == $"run {runId} accepted");
        Assert.Contains(progress, p => p.Message == "run.succeeded");
        // One notification per event of the run's log, numbered by its sequence number (the C# client may hand them over
        // out of order: it does not serialise notification handlers).
        Assert.Equal(Enumerable.Range(0, run.GetProperty("lastEventSeq").GetInt32() + 1).Select(i => (float)i), progress.Select(p => p.Progress).Order());

        var structured = await client.CallToolAsync("summarizer", new Dictionary<string, object?> { ["goal"] = "summarize the week" });
        Assert.NotEqual(true, structured.IsError);
        Assert.Equal(JsonValueKind.String, structured.StructuredContent!.Value.GetProperty("answer").ValueKind);
    }

    [Fact]
    public async Task BadArgumentsAreAToolErrorAndAnUnknownAgentAProtocolError()
    {
        var (tenantId, key) = await platform.NewTenantAsync("runs");
        await Runs.CreateAgentAsync(platform.AppHost, await platform.IssueKeyAsync(tenantId, "agents"), "writer");
        await using var client = await ConnectAsync(key);

        var missingGoal = await client.CallToolAsync("writer", new Dictionary<string, object?> { ["input"] = 1 });
        Assert.True(missingGoal.IsError);
        var unknownArgument = await client.CallToolAsync("writer", new Dictionary<string, object?> { ["goal"] = "x", ["agent"] = "other" });
        Assert.True(unknownArgument.IsError);
        await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("nobody", new Dictionary<string, object?> { ["goal"] = "x" }).AsTask());

        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        Assert.Empty((await orchestrator.GetFromJsonAsync<JsonElement>("/v1/runs")).EnumerateArray());
    }

    [Fact]
    public async Task TheTypeScriptClientCallsAnAgentAndCancellingTheCallCancelsItsRun()
    {
        var (_, key) = await platform.NewTenantAsync("agents", "runs");
        await Runs.CreateAgentAsync(platform.AppHost, key, "careful");

        var listed = await TypeScriptClientAsync(key, "list");
        Assert.Equal(["careful"], listed.Single(l => l.Kind == "tools").Value.EnumerateArray().Select(t => t.GetProperty("name").GetString()));

        var called = await TypeScriptClientAsync(key, "call", "careful", "draft a note, then write it up");
        var result = called.Single(l => l.Kind == "result").Value;
        Assert.False(result.TryGetProperty("isError", out var isError) && isError.GetBoolean(), result.GetRawText());
        var progress = called.Where(l => l.Kind == "progress").Select(l => l.Value.GetProperty("progress").GetInt32()).ToList();
        Assert.Equal(progress.Order(), progress);
        Assert.Contains(called, l => l.Kind == "progress" && l.Value.GetProperty("message").GetString() == "run.succeeded");

        // The approval step parks the run; the client gives up on the call there, and keeps its session open.
        var cancelled = await TypeScriptClientAsync(key, "call", "careful", ApprovalGoal, "step.waiting_approval");
        Assert.Contains(cancelled, l => l.Kind == "error");
        var run = cancelled.Single(l => l.Kind == "run").Value;
        Assert.Equal("cancelled", run.GetProperty("state").GetString());
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        Assert.Equal("Cancelled on request.", (await Runs.GetAsync(orchestrator, run.GetProperty("id").GetString()!)).GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AnotherTenantsKeySeesNoneOfTheAgentsAndAKeyWithoutTheRunsScopeIsRefused()
    {
        var (_, owner) = await platform.NewTenantAsync("agents", "runs");
        await Runs.CreateAgentAsync(platform.AppHost, owner, "private-writer");
        var (_, stranger) = await platform.NewTenantAsync("agents", "runs");
        var (_, agentsOnly) = await platform.NewTenantAsync("agents");

        await using (var client = await ConnectAsync(stranger))
        {
            Assert.Empty(await client.ListToolsAsync());
            await Assert.ThrowsAsync<McpProtocolException>(() => client.CallToolAsync("private-writer", new Dictionary<string, object?> { ["goal"] = "x" }).AsTask());
        }

        using var http = PlatformApp.ClientFor(platform.AppHost.Url("orchestrator"), agentsOnly);
        using var refused = await http.PostAsJsonAsync("/mcp", new { jsonrpc = "2.0", id = 1, method = "tools/list" });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        using var anonymous = await PlatformApp.ClientFor(platform.AppHost.Url("orchestrator"), null).PostAsJsonAsync("/mcp", new { jsonrpc = "2.0", id = 1, method = "tools/list" });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private async Task<McpClient> ConnectAsync(string key) =>
        await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions
        {
            Endpoint = new Uri(platform.AppHost.Url("orchestrator"), "/mcp"),
            TransportMode = HttpTransportMode.StreamableHttp,
            AdditionalHeaders = new Dictionary<string, string> { ["Authorization"] = $"Bearer {key}" },
        }));

    private async Task<IReadOnlyList<(string Kind, JsonElement Value)>> TypeScriptClientAsync(string key, params string[] arguments)
    {
        var run = await NodePackages.RunAsync(Path.Combine(Repository.Root, "tests", "mcp-client"),
            Path.Combine("node_modules", "@modelcontextprotocol", "sdk", "package.json"), "agents.mjs",
            [new Uri(platform.AppHost.Url("orchestrator"), "/mcp").ToString(), .. arguments],
            new Dictionary<string, string> { ["PLATFORM_API_KEY"] = key });
        Assert.True(run.ExitCode == 0, run.Errors);
        var lines = run.Lines.Select(line => JsonDocument.Parse(line).RootElement).Select(e => (Kind: e.GetProperty("kind").GetString()!, Value: e.GetProperty("value").Clone())).ToList();
        Assert.True(arguments[^1] == "step.waiting_approval" || lines.All(l => l.Kind != "error"), string.Join("\n", run.Lines));
        return lines;
    }

    /// <summary>Reports on the notifying thread, so that every notification is seen before the call's result.</summary>
    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
