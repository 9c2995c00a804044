using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tests.Orchestrator;

/// <summary>Agents are versioned definitions per tenant: each write is a new version, and a deleted agent's versions still resolve.</summary>
[Collection(PlatformCollection.Name)]
public sealed class AgentsTests(PlatformFixture platform)
{
    private static readonly object Researcher = new
    {
        name = "researcher",
        instructions = "Find three sources and summarise them.",
        model = "simulator",
        tools = new[] { "builtin.http_request", "builtin.calculator" },
    };

    [Fact]
    public async Task CreatingAnAgentAppliesTheDefaultsAndEachUpdateIsTheNextVersion()
    {
        using var client = await ClientAsync("agents");
        var keyId = (await client.GetFromJsonAsync<JsonElement>("/v1/me")).GetProperty("keyId").GetString();

        using var created = await client.PostAsJsonAsync("/v1/agents", Researcher);
        using var updated = await client.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator", mode = "react", maxSteps = 5 });

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/v1/agents/researcher", created.Headers.Location?.ToString());
        Assert.Equal("\"1\"", created.Headers.ETag?.ToString());
        var first = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, first.GetProperty("version").GetInt32());
        Assert.Equal(keyId, first.GetProperty("createdBy").GetString());
        Assert.Equal("plan", first.GetProperty("mode").GetString());
        Assert.Equal(20, first.GetProperty("maxSteps").GetInt32());
        Assert.Equal(50, first.GetProperty("maxToolCalls").GetInt32());
        Assert.Equal(3600, first.GetProperty("timeouts").GetProperty("runSeconds").GetInt32());
        Assert.Equal(120, first.GetProperty("timeouts").GetProperty("stepSeconds").GetInt32());
        Assert.Equal(3, first.GetProperty("retries").GetProperty("maxAttempts").GetInt32());
        Assert.Equal(2, first.GetProperty("retries").GetProperty("backoffSeconds").GetInt32());
        Assert.Equal(0, first.GetProperty("approvals").GetProperty("require").GetArrayLength());
        Assert.Equal(JsonValueKind.Object, first.GetProperty("metadata").ValueKind);
        Assert.Equal(new[] { "builtin.http_request", "builtin.calculator" }, first.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));

        Assert.Equal(HttpStatusCode.OK, updated.StatusCode);
        Assert.Equal("\"2\"", updated.Headers.ETag?.ToString());
        var latest = await client.GetAsync("/v1/agents/researcher");
        Assert.Equal("\"2\"", latest.Headers.ETag?.ToString());
        var second = await latest.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(2, second.GetProperty("version").GetInt32());
        Assert.Equal("react", second.GetProperty("mode").GetString());
        Assert.Equal(5, second.GetProperty("maxSteps").GetInt32());
        Assert.Equal(0, second.GetProperty("tools").GetArrayLength());
        var original = await client.GetFromJsonAsync<JsonElement>("/v1/agents/researcher?version=1");
        Assert.Equal("Find three sources and summarise them.", original.GetProperty("instructions").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/agents/researcher?version=3")).StatusCode);
    }

    [Fact]
    public async Task EveryFieldIsStoredAsWrittenAndReadBackInTheVersionHistory()
    {
        using var client = await ClientAsync("agents");
        var full = JsonContent("""
            {"name": "full", "instructions": "Do it.", "model": "gpt-4o", "fallbackModel": "simulator", "tools": ["builtin.calculator", "http.lookup"],
             "mode": "plan", "maxSteps": 100, "maxToolCalls": 0, "budgetUsd": 12.5, "timeouts": {"runSeconds": 86400, "stepSeconds": 3600},
             "retries": {"maxAttempts": 10, "backoffSeconds": 0}, "approvals": {"require": ["http.lookup"], "skip": ["builtin.calculator"]},
             "outputSchema": {"type": "object", "properties": {"answer": {"$ref": "#/definitions/text"}}, "definitions": {"text": {"type": "string"}}},
             "webhookUrl": "https://hooks.example.com/agents", "metadata": {"team": "research", "tags": ["a", "b"], "priority": 2}}
            """);

        (await client.PostAsync("/v1/agents", full)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/v1/agents/full", new { model = "simulator" })).EnsureSuccessStatusCode();
        var history = await client.GetFromJsonAsync<JsonElement>("/v1/agents/full/versions");

        var versions = history.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(new[] { 1, 2 }, versions.Select(v => v.GetProperty("version").GetInt32()));
        var stored = versions[0];
        Assert.Equal("gpt-4o", stored.GetProperty("model").GetString());
        Assert.Equal("simulator", stored.GetProperty("fallbackModel").GetString());
        Assert.Equal(12.5m, stored.GetProperty("budgetUsd").GetDecimal());
        Assert.Equal(0, stored.GetProperty("maxToolCalls").GetInt32());
        Assert.Equal(86400, stored.GetProperty("timeouts").GetProperty("runSeconds").GetInt32());
        Assert.Equal(0, stored.GetProperty("retries").GetProperty("backoffSeconds").GetInt32());
        Assert.Equal("http.lookup", stored.GetProperty("approvals").GetProperty("require")[0].GetString());
        Assert.Equal("builtin.calculator", stored.GetProperty("approvals").GetProperty("skip")[0].GetString());
        Assert.Equal("string", stored.GetProperty("outputSchema").GetProperty("definitions").GetProperty("text").GetProperty("type").GetString());
        Assert.Equal("https://hooks.example.com/agents", stored.GetProperty("webhookUrl").GetString());
        Assert.Equal("research", stored.GetProperty("metadata").GetProperty("team").GetString());
        Assert.Equal(JsonValueKind.Null, versions[1].GetProperty("outputSchema").ValueKind);
        Assert.Equal(JsonValueKind.Null, history.GetProperty("next").ValueKind);
    }

    [Fact]
    public async Task CreatingAnAgentThatExistsIsAConflict()
    {
        using var client = await ClientAsync("agents");
        (await client.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();

        using var again = await client.PostAsJsonAsync("/v1/agents", Researcher);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/v1/agents/researcher")).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task AnUpdateWhoseIfMatchIsNotTheLatestVersionFailsItsPrecondition()
    {
        using var client = await ClientAsync("agents");
        (await client.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator" })).EnsureSuccessStatusCode();

        using var stale = await PutAsync(client, "researcher", "\"1\"");
        using var current = await PutAsync(client, "researcher", "\"2\"");
        using var any = await PutAsync(client, "researcher", "*");
        using var malformed = await PutAsync(client, "researcher", "3");
        using var missing = await PutAsync(client, "nobody", null);

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("application/problem+json", stale.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
        Assert.Equal("\"3\"", current.Headers.ETag?.ToString());
        Assert.Equal("\"4\"", any.Headers.ETag?.ToString());
        await AssertRefusedAsync(malformed, "If-Match");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(4, (await client.GetFromJsonAsync<JsonElement>("/v1/agents/researcher")).GetProperty("version").GetInt32());
    }

    [Theory]
    [InlineData("""{"name": "a", "model": "simulator", "mode": "autonomous"}""", "mode")]
    [InlineData("""{"name": "a", "model": "simulator", "maxSteps": 0}""", "maxSteps")]
    [InlineData("""{"name": "a", "model": "simulator", "maxToolCalls": 201}""", "maxToolCalls")]
    [InlineData("""{"name": "a"}""", "model")]
    [InlineData("""{"name": "a", "model": "simulator", "fallbackModel": "has space"}""", "fallbackModel")]
    [InlineData("""{"name": "a", "model": "simulator", "budgetUsd": 0}""", "budgetUsd")]
    [InlineData("""{"name": "a", "model": "simulator", "budgetUsd": 10000.01}""", "budgetUsd")]
    [InlineData("""{"name": "a", "model": "simulator", "timeouts": {"runSeconds": 86401}}""", "timeouts.runSeconds")]
    [InlineData("""{"name": "a", "model": "simulator", "timeouts": {"runSeconds": 60, "stepSeconds": 120}}""", "timeouts.stepSeconds")]
    [InlineData("""{"name": "a", "model": "simulator", "retries": {"maxAttempts": 11}}""", "retries.maxAttempts")]
    [InlineData("""{"name": "a", "model": "simulator", "retries": {"backoffSeconds": 601}}""", "retries.backoffSeconds")]
    [InlineData("""{"name": "a", "model": "simulator", "tools": ["builtin.calculator", "builtin.calculator"]}""", "tools[1]")]
    [InlineData("""{"name": "a", "model": "simulator", "tools": ["no spaces allowed"]}""", "tools[0]")]
    [InlineData("""{"name": "a", "model": "simulator", "approvals": {"require": ["x"], "skip": ["x"]}}""", "approvals.skip")]
    [InlineData("""{"name": "a", "model": "simulator", "outputSchema": {"type": "object", "properties": {"a": {"$ref": "#/definitions/missing"}}}}""", "outputSchema")]
    [InlineData("""{"name": "a", "model": "simulator", "outputSchema": {"not": {"$ref": "#"}}}""", "outputSchema")]
    [InlineData("""{"name": "a", "model": "simulator", "outputSchema": {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}}}""", "outputSchema")]
    [InlineData("""{"name": "a", "model": "simulator", "outputSchema": "object"}""", "outputSchema")]
    [InlineData("""{"name": "a", "model": "simulator", "webhookUrl": "ftp://example.com/hook"}""", "webhookUrl")]
    [InlineData("""{"name": "a", "model": "simulator", "webhookUrl": "/relative"}""", "webhookUrl")]
    [InlineData("""{"name": "a", "model": "simulator", "metadata": ["not", "an", "object"]}""", "metadata")]
    [InlineData("""{"name": "a", "model": "simulator", "metadata": {"big": 1e400}}""", "metadata")]
    [InlineData("""{"name": "Agent", "model": "simulator"}""", "name")]
    [InlineData("""{"name": "-agent", "model": "simulator"}""", "name")]
    [InlineData("""{"name": "a/b", "model": "simulator"}""", "name")]
    [InlineData("""{"name": "a", "model": "simulator", "instructions": "before\u0000after"}""", "instructions")]
    public async Task AnInvalidDefinitionIsRefusedNamingTheFieldAndNothingIsStored(string body, string field)
    {
        using var client = await ClientAsync("agents");

        using var response = await client.PostAsync("/v1/agents", JsonContent(body));

        await AssertRefusedAsync(response, field);
        var listed = await client.GetFromJsonAsync<JsonElement>("/v1/agents");
        Assert.Equal(0, listed.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task LongInstructionsAndLargeMetadataAreRefusedPastTheirLimits()
    {
        using var client = await ClientAsync("agents");

        using var instructions = await client.PostAsJsonAsync("/v1/agents", new { name = "a", model = "simulator", instructions = new string('x', 32_769) });
        using var metadata = await client.PostAsJsonAsync("/v1/agents", new { name = "a", model = "simulator", metadata = new { notes = new string('x', 17_000) } });
        using var fits = await client.PostAsJsonAsync("/v1/agents", new { name = "a", model = "simulator", instructions = new string('x', 32_768) });

        await AssertRefusedAsync(instructions, "instructions");
        await AssertRefusedAsync(metadata, "metadata");
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    [Fact]
    public async Task AnUpdateIsValidatedLikeACreationAndKeepsTheNameOfItsPath()
    {
        using var client = await ClientAsync("agents");
        (await client.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();

        using var renamed = await client.PutAsJsonAsync("/v1/agents/researcher", new { name = "other", model = "simulator" });
        using var invalid = await client.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator", maxSteps = 101 });
        using var named = await client.PutAsJsonAsync("/v1/agents/researcher", new { name = "researcher", model = "simulator" });

        await AssertRefusedAsync(renamed, "name");
        await AssertRefusedAsync(invalid, "maxSteps");
        Assert.Equal(HttpStatusCode.OK, named.StatusCode);
        Assert.Equal(2, (await named.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task AnotherTenantNeitherSeesNorListsNorChangesAnAgent()
    {
        using var alice = await ClientAsync("agents");
        using var bob = await ClientAsync("agents", "runs");
        (await alice.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/v1/agents/researcher")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/v1/agents/researcher?version=1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync("/v1/agents/researcher/versions")).StatusCode);
        Assert.Equal(0, (await bob.GetFromJsonAsync<JsonElement>("/v1/agents")).GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await bob.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.DeleteAsync("/v1/agents/researcher")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await bob.PostAsJsonAsync("/v1/agents", Researcher)).StatusCode);
        Assert.Equal(1, (await alice.GetFromJsonAsync<JsonElement>("/v1/agents/researcher")).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task AKeyForRunsReadsAgentsButOnlyAKeyForAgentsChangesThem()
    {
        var (tenantId, agentsKey) = await platform.NewTenantAsync("agents");
        using var writer = platform.AppHost.Client("orchestrator", agentsKey);
        using var runner = platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "runs"));
        using var planner = platform.AppHost.Client("orchestrator", await platform.IssueKeyAsync(tenantId, "plans"));
        (await writer.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();

        Assert.Equal(HttpStatusCode.OK, (await runner.GetAsync("/v1/agents/researcher")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await runner.GetAsync("/v1/agents/researcher/versions")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await runner.GetAsync("/v1/agents")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await runner.PostAsJsonAsync("/v1/agents", Researcher)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await runner.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await runner.DeleteAsync("/v1/agents/researcher")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await planner.GetAsync("/v1/agents/researcher")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await planner.GetAsync("/v1/agents")).StatusCode);
        Assert.Equal(1, (await writer.GetFromJsonAsync<JsonElement>("/v1/agents/researcher")).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ConcurrentUpdatesEachGetTheirOwnVersion()
    {
        using var client = await ClientAsync("agents");
        (await client.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();

        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            client.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator", maxSteps = i + 1 })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var versions = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32()));
        Assert.Equal(Enumerable.Range(2, 12), versions.Order());
        Assert.Equal(13, (await client.GetFromJsonAsync<JsonElement>("/v1/agents/researcher")).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ConcurrentCreationsOfOneNameMakeOneAgent()
    {
        using var client = await ClientAsync("agents");

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.PostAsJsonAsync("/v1/agents", Researcher)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.Equal(HttpStatusCode.Conflict, r.StatusCode));
    }

    [Fact]
    public async Task ADeletedAgentIsGoneButEachOfItsVersionsStillResolves()
    {
        using var client = await ClientAsync("agents");
        (await client.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator" })).EnsureSuccessStatusCode();

        using var deleted = await client.DeleteAsync("/v1/agents/researcher");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/agents/researcher")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/agents/researcher/versions")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsJsonAsync("/v1/agents/researcher", new { model = "simulator" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/v1/agents/researcher")).StatusCode);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/v1/agents")).GetProperty("items").GetArrayLength());
        Assert.Equal(1, (await client.GetFromJsonAsync<JsonElement>("/v1/agents/researcher?version=1")).GetProperty("version").GetInt32());
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonElement>("/v1/agents/researcher?version=2")).GetProperty("version").GetInt32());

        using var recreated = await client.PostAsJsonAsync("/v1/agents", Researcher);
        Assert.Equal(HttpStatusCode.Created, recreated.StatusCode);
        Assert.Equal(3, (await recreated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task ListsArePagedByNameAndVersionsByNumber()
    {
        using var client = await ClientAsync("agents");
        foreach (var name in new[] { "charlie", "alpha", "bravo" })
        {
            (await client.PostAsJsonAsync("/v1/agents", new { name, model = "simulator" })).EnsureSuccessStatusCode();
        }

        (await client.PutAsJsonAsync("/v1/agents/alpha", new { model = "simulator" })).EnsureSuccessStatusCode();
        (await client.PutAsJsonAsync("/v1/agents/alpha", new { model = "simulator" })).EnsureSuccessStatusCode();

        var first = await client.GetFromJsonAsync<JsonElement>("/v1/agents?limit=2");
        var second = await client.GetFromJsonAsync<JsonElement>($"/v1/agents?limit=2&after={first.GetProperty("next").GetString()}");
        var versions = await client.GetFromJsonAsync<JsonElement>("/v1/agents/alpha/versions?limit=2");
        var lastVersion = await client.GetFromJsonAsync<JsonElement>($"/v1/agents/alpha/versions?limit=2&after={versions.GetProperty("next").GetInt32()}");

        Assert.Equal(new[] { "alpha", "bravo" }, Names(first));
        Assert.Equal(3, first.GetProperty("items")[0].GetProperty("version").GetInt32());
        Assert.Equal(new[] { "charlie" }, Names(second));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("next").ValueKind);
        Assert.Equal(new[] { 1, 2 }, versions.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal(new[] { 3 }, lastVersion.GetProperty("items").EnumerateArray().Select(v => v.GetProperty("version").GetInt32()));
        await AssertRefusedAsync(await client.GetAsync("/v1/agents?limit=0"), "limit");
    }

    [Fact]
    public async Task ADeletedTenantsAgentsArePurgedWithItsOtherData()
    {
        var (tenantId, key) = await platform.NewTenantAsync("agents");
        using (var client = platform.AppHost.Client("orchestrator", key))
        {
            (await client.PostAsJsonAsync("/v1/agents", Researcher)).EnsureSuccessStatusCode();
        }

        Assert.Equal(1, await CountAgentsAsync(tenantId));
        using var admin = platform.Admin("orchestrator");
        (await admin.DeleteAsync($"/v1/tenants/{tenantId}?retentionDays=0")).EnsureSuccessStatusCode();

        await WaitUntilAsync("the deleted tenant's agents to be gone", TimeSpan.FromSeconds(30), async () => await CountAgentsAsync(tenantId) == 0);
    }

    /// <summary>A client of a new tenant whose key has <paramref name="scopes"/>.</summary>
    private async Task<HttpClient> ClientAsync(params string[] scopes)
    {
        var (_, key) = await platform.NewTenantAsync(scopes);
        return platform.AppHost.Client("orchestrator", key);
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient client, string name, string? ifMatch)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/agents/{name}") { Content = JsonContent("""{"model": "simulator"}""") };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        return await client.SendAsync(request);
    }

    private static StringContent JsonContent(string json) => new(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private static IEnumerable<string?> Names(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("name").GetString());

    /// <summary>A 400 in problem+json naming the field, in its validation errors or (from the input guard) as its <c>field</c>.</summary>
    private static async Task AssertRefusedAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        var named = (problem.RootElement.TryGetProperty("errors", out var errors) && errors.TryGetProperty(field, out _))
            || (problem.RootElement.TryGetProperty("field", out var given) && given.GetString() == field);
        Assert.True(named, body);
    }

    private async Task<long> CountAgentsAsync(string tenantId)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("orchestratordb"));
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM agents WHERE tenant_id = @tenantId", new { tenantId });
    }
}
