using System.ClientModel;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Platform.TestSupport;

namespace Platform.Tests.Model;

/// <summary>
/// Agents as OpenAI models: <c>agent:&lt;name&gt;</c> through the official OpenAI .NET and JS clients, plain and
/// streamed, each call a durable run of the caller's, with its cost.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class AgentModelsTests(PlatformFixture platform)
{
    private const string Goal = "draft a note, then write it up";

    [Fact]
    public async Task TheDotnetClientAsksAnAgentPlainAndStreamedAndEachAnswerIsARunOfTheCallersKey()
    {
        var (_, key) = await platform.NewTenantAsync("agents", "runs", "models");
        await Runs.CreateAgentAsync(platform.AppHost, key, "writer");
        var client = new ChatClient("agent:writer", new ApiKeyCredential(key), Options());

        ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage(Goal)]);
        var runs = await RunsAsync(key);
        var run = Assert.Single(runs);
        Assert.Equal("succeeded", run.State());
        Assert.Equal(run.GetProperty("output").GetString(), completion.Content[0].Text);
        Assert.Equal($"chatcmpl-{run.Id()}", completion.Id);
        Assert.Equal(run.GetProperty("usage").GetProperty("promptTokens").GetInt32(), completion.Usage.InputTokenCount);
        Assert.Equal("chat.completions", run.GetProperty("metadata").GetProperty("source").GetString());

        var streamed = new StringBuilder();
        var chunks = 0;
        await foreach (var update in client.CompleteChatStreamingAsync([new UserChatMessage(Goal)], new ChatCompletionOptions()))
        {
            chunks++;
            streamed.Append(string.Concat(update.ContentUpdate.Select(p => p.Text)));
        }

        var second = (await RunsAsync(key)).Single(r => r.Id() != run.Id());
        Assert.Equal(second.GetProperty("output").GetString(), streamed.ToString());
        Assert.True(chunks > 3, $"the answer came in {chunks} chunks: the answer step's tokens, as the run made them");

        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var keyId = (await orchestrator.GetFromJsonAsync<JsonElement>("/v1/me")).GetProperty("keyId").GetString();
        var listed = (await orchestrator.GetFromJsonAsync<JsonElement>("/v1/runs")).EnumerateArray().ToList();
        Assert.Equal(2, listed.Count);
        Assert.All(listed, r => Assert.Equal(keyId, r.GetProperty("createdBy").GetString()));
    }

    [Fact]
    public async Task TheJsClientAsksAnAgentPlainAndStreamedWithTheRunsUsage()
    {
        var (_, key) = await platform.NewTenantAsync("agents", "runs", "models");
        await Runs.CreateAgentAsync(platform.AppHost, key, "writer");

        var plain = await JsClientAsync(key, "agent:writer@1", "plain");
        var runId = plain.GetProperty("id").GetString()!["chatcmpl-".Length..];
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var run = await Runs.GetAsync(orchestrator, runId);
        Assert.Equal(run.GetProperty("output").GetString(), plain.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(1, run.GetProperty("agentVersion").GetInt32());

        var stream = await JsClientAsync(key, "agent:writer", "stream");
        var streamedRun = (await RunsAsync(key)).Single(r => r.Id() != runId);
        Assert.Equal(streamedRun.GetProperty("output").GetString(), stream.GetProperty("text").GetString());
        Assert.Equal(streamedRun.GetProperty("usage").GetProperty("completionTokens").GetInt32(), stream.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(streamedRun.GetProperty("usage").GetProperty("costUsd").GetDecimal(), stream.GetProperty("usage").GetProperty("cost_usd").GetDecimal());
    }

    [Fact]
    public async Task AnUnknownAgentIsAnUnknownModelAndAKeyThatMayNotStartRunsIsRefused()
    {
        var (tenantId, key) = await platform.NewTenantAsync("runs", "models");
        await Runs.CreateAgentAsync(platform.AppHost, await platform.IssueKeyAsync(tenantId, "agents"), "writer");

        var unknown = await Assert.ThrowsAsync<ClientResultException>(() =>
            new ChatClient("agent:nobody", new ApiKeyCredential(key), Options()).CompleteChatAsync([new UserChatMessage(Goal)]));
        Assert.Equal(404, unknown.Status);
        Assert.Contains("model_not_found", unknown.Message, StringComparison.Ordinal);
        var noVersion = await Assert.ThrowsAsync<ClientResultException>(() =>
            new ChatClient("agent:writer@7", new ApiKeyCredential(key), Options()).CompleteChatAsync([new UserChatMessage(Goal)]));
        Assert.Equal(404, noVersion.Status);

        var modelsOnly = await platform.IssueKeyAsync(tenantId, "models");
        var refused = await Assert.ThrowsAsync<ClientResultException>(() =>
            new ChatClient("agent:writer", new ApiKeyCredential(modelsOnly), Options()).CompleteChatAsync([new UserChatMessage(Goal)]));
        Assert.Equal(403, refused.Status);
        Assert.Empty(await RunsAsync(key));
    }

    [Fact]
    public async Task TheModelListShowsTheTenantsAgentsToAKeyThatMayReadThem()
    {
        var (tenantId, key) = await platform.NewTenantAsync("agents", "models");
        await Runs.CreateAgentAsync(platform.AppHost, key, "writer");
        var (_, stranger) = await platform.NewTenantAsync("agents", "models");

        Assert.Contains("agent:writer", await ModelIdsAsync(key));
        Assert.Contains("simulator", await ModelIdsAsync(key));
        Assert.DoesNotContain("agent:writer", await ModelIdsAsync(stranger));
        Assert.DoesNotContain("agent:writer", await ModelIdsAsync(await platform.IssueKeyAsync(tenantId, "models")));
    }

    private async Task<IReadOnlyList<string>> ModelIdsAsync(string key)
    {
        using var client = platform.AppHost.Client("model", key);
        return [.. (await client.GetFromJsonAsync<JsonElement>("/v1/models")).GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()!)];
    }

    /// <summary>The tenant's runs in full, through the key, which has the runs scope.</summary>
    private async Task<IReadOnlyList<JsonElement>> RunsAsync(string key)
    {
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        var runs = new List<JsonElement>();
        foreach (var summary in (await orchestrator.GetFromJsonAsync<JsonElement>("/v1/runs")).EnumerateArray())
        {
            runs.Add(await Runs.GetAsync(orchestrator, summary.GetProperty("id").GetString()!));
        }

        return runs;
    }

    private async Task<JsonElement> JsClientAsync(string key, string model, string mode)
    {
        var run = await NodePackages.RunAsync(Path.Combine(Repository.Root, "tests", "openai"), Path.Combine("node_modules", "openai", "package.json"), "chat.mjs",
            [model, mode, Goal], new Dictionary<string, string>
            {
                ["OPENAI_BASE_URL"] = new Uri(platform.AppHost.Url("model"), "/v1").ToString(),
                ["OPENAI_API_KEY"] = key,
            });
        Assert.True(run.ExitCode == 0, run.Errors);
        return JsonDocument.Parse(string.Join('\n', run.Lines)).RootElement.Clone();
    }

    private OpenAIClientOptions Options() => new() { Endpoint = new Uri(platform.AppHost.Url("model"), "/v1") };
}
