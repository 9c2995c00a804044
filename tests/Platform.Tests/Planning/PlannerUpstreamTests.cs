using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Planning;

/// <summary>
/// The LLM planner against real providers' wire formats (a scripted fake upstream): the prompt and schema that go
/// out, answers parsed the same through OpenAI's and Anthropic's APIs, retries with the reasons, hostile answers.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class PlannerUpstreamTests(PlatformFixture platform) : IAsyncLifetime
{
    private const string Goal = "add 2 and 3, then report the sum";
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    public static string Plan(params object[] steps) => JsonSerializer.Serialize(new { steps });

    public static object Step(string id, string kind, string? tool = null, string arguments = "{}", string[]? dependsOn = null, string? title = null) => new
    {
        id,
        title = title ?? $"Step {id}",
        instruction = $"Do {id}.",
        kind,
        tool,
        arguments,
        dependsOn = dependsOn ?? [],
        acceptance = "Done.",
    };

    public static readonly string ValidAnswer = Plan(
        Step("calc", "tool", "builtin.calculator", """{"expression":"2 + 3"}"""),
        Step("report", "model", arguments: """{"sum":"{{steps.calc.output.value}}"}""", dependsOn: ["calc"]));

    [Fact]
    public async Task TheRealPromptAndSchemaGoOutAndARefusedAnswerIsRetriedWithTheReasons()
    {
        var model = Unique();
        _upstream.Script(model, Plan(Step("calc", "tool", "builtin.teleport")), ValidAnswer);
        using var planning = await PlannerAsync("openai", model);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal = Goal, context = "for the monthly report", model = "planner" });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var plan = JsonDocument.Parse(text);
        Assert.Equal(2, plan.RootElement.GetProperty("planner").GetProperty("attempts").GetInt32());
        Assert.Equal("""[["calc"],["report"]]""", plan.RootElement.GetProperty("layers").GetRawText());

        var requests = _upstream.Requests(model);
        Assert.Equal(2, requests.Count);
        var first = requests[0];
        Assert.Equal(0, first["temperature"]!.GetValue<int>());
        var format = first["response_format"]!;
        Assert.Equal("json_schema", format["type"]!.GetValue<string>());
        Assert.Equal("platform_plan", format["json_schema"]!["name"]!.GetValue<string>());
        Assert.True(format["json_schema"]!["strict"]!.GetValue<bool>());
        Assert.Equal("array", format["json_schema"]!["schema"]!["properties"]!["steps"]!["type"]!.GetValue<string>());
        var messages = first["messages"]!.AsArray();
        Assert.Equal("system", messages[0]!["role"]!.GetValue<string>());
        var document = JsonNode.Parse(messages[1]!["content"]!.GetValue<string>())!;
        Assert.Equal(Goal, document["goal"]!.GetValue<string>());
        Assert.Equal("for the monthly report", document["context"]!.GetValue<string>());
        Assert.Equal(20, document["constraints"]!["maxSteps"]!.GetValue<int>());
        Assert.Contains(document["tools"]!.AsArray(), t => t!["name"]!.GetValue<string>() == "builtin.calculator" && t["parameters"]!["type"]!.GetValue<string>() == "object");

        var retry = requests[1]["messages"]!.AsArray();
        Assert.Equal(4, retry.Count);
        Assert.Equal("assistant", retry[2]!["role"]!.GetValue<string>());
        Assert.Contains("steps[0].tool", retry[3]!["content"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ThroughAnthropicTheSchemaIsAForcedToolAndItsInputIsThePlan()
    {
        var model = Unique();
        _upstream.Script(model, ValidAnswer);
        using var planning = await PlannerAsync("anthropic", model);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal = Goal, model = "planner" });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var plan = JsonDocument.Parse(text);
        Assert.Equal("builtin.calculator", plan.RootElement.GetProperty("steps")[0].GetProperty("tool").GetString());
        var request = Assert.Single(_upstream.Requests(model));
        Assert.Equal("respond_platform_plan", request["tool_choice"]!["name"]!.GetValue<string>());
        var tool = request["tools"]!.AsArray().Single(t => t!["name"]!.GetValue<string>() == "respond_platform_plan")!;
        Assert.Equal("array", tool["input_schema"]!["properties"]!["steps"]!["type"]!.GetValue<string>());
        Assert.Contains("platform_plan", request["system"]!.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(Goal, JsonNode.Parse(request["messages"]![0]!["content"]![0]!["text"]!.GetValue<string>())!["goal"]!.GetValue<string>());
    }

    [Fact]
    public async Task AnIdempotencyKeyAnswersThePlanItMadeAndNamesThePlannersGatewayCalls()
    {
        var model = Unique();
        _upstream.Script(model, ValidAnswer);
        using var planning = await PlannerAsync("openai", model);
        var key = $"order-{Guid.NewGuid():N}";

        var first = await PostPlanAsync(planning, key, Goal);
        var again = await PostPlanAsync(planning, key, Goal);
        var otherGoal = await PostPlanAsync(planning, key, "write a poem");
        var badKey = await PostPlanAsync(planning, new string('k', 201), Goal);

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.OK, again.Status);
        Assert.Equal("true", again.Replayed);
        Assert.Equal(first.Body.GetProperty("id").GetString(), again.Body.GetProperty("id").GetString());
        Assert.Equal(HttpStatusCode.Conflict, otherGoal.Status);
        Assert.Equal(HttpStatusCode.BadRequest, badKey.Status);
        Assert.Single(_upstream.Requests(model));

        // A planning service that crashed after paying for the planner's answer, before storing the plan: asked again
        // with the key, it gets the gateway's recorded answer and the upstream is not called a second time.
        await using (var connection = new Npgsql.NpgsqlConnection(platform.AppHost.ConnectionString("planningdb")))
        {
            await connection.OpenAsync();
            await using var delete = new Npgsql.NpgsqlCommand("DELETE FROM plans WHERE id = @id", connection);
            delete.Parameters.AddWithValue("id", Guid.Parse(first.Body.GetProperty("id").GetString()!));
            Assert.Equal(1, await delete.ExecuteNonQueryAsync());
        }

        var afterCrash = await PostPlanAsync(planning, key, Goal);
        Assert.Equal(HttpStatusCode.Created, afterCrash.Status);
        Assert.Equal(first.Body.GetProperty("steps").GetRawText(), afterCrash.Body.GetProperty("steps").GetRawText());
        Assert.Single(_upstream.Requests(model));
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body, string? Replayed)> PostPlanAsync(HttpClient planning, string key, string goal)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/plans") { Content = JsonContent.Create(new { goal, model = "planner" }) };
        request.Headers.Add("Idempotency-Key", key);
        using var response = await planning.SendAsync(request);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (response.StatusCode, body, response.Headers.TryGetValues("Idempotent-Replayed", out var values) ? values.Single() : null);
    }

    public static TheoryData<string, string, string> HostileAnswers => new()
    {
        { "cycle", Plan(Step("a", "model", dependsOn: ["b"]), Step("b", "model", dependsOn: ["a"])), "steps[0].dependsOn" },
        { "unknown tool", Plan(Step("a", "tool", "http.exfiltrate", """{"data":"all"}""")), "steps[0].tool" },
        { "dangling dependency", Plan(Step("a", "model", dependsOn: ["ghost"])), "steps[0].dependsOn" },
        { "dangling reference", Plan(Step("a", "model", arguments: """{"x":"{{steps.ghost.output}}"}""")), "steps[0].arguments" },
        { "10,000 steps", Plan([.. Enumerable.Range(0, 10_000).Select(i => Step($"s{i}", "model"))]), "steps" },
        { "1 MB title", Plan(Step("a", "model", title: new string('x', 1_000_000))), "steps[0].title" },
        { "smuggled reference", Plan(Step("a", "model"), Step("b", "model", arguments: """{"x":"{{steps.a.output}} {{steps.secrets}}"}""", dependsOn: ["a"])), "steps[1].arguments" },
        { "hidden text", Plan(Step("a", "model", title: "Pay invoice \u202Egnp.exe\u202C")), "steps[0].title" },
        { "invented kind", Plan(Step("a", "shell")), "steps[0].kind" },
        { "not a plan", "Sure! Here is your plan: 1. add 2. report", "plan" },
        { "bad arguments", Plan(Step("a", "tool", "builtin.calculator", """{"expression":7,"shell":"rm -rf /"}""")), "steps[0].arguments" },
    };

    [Theory]
    [MemberData(nameof(HostileAnswers))]
    public async Task AHostileAnswerIsRefusedThreeTimesThen422AndNothingIsStored(string name, string answer, string field)
    {
        var model = Unique();
        _upstream.Script(model, answer);
        using var planning = await PlannerAsync("openai", model);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal = Goal, model = "planner" });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.UnprocessableEntity, $"{name}: {text[..Math.Min(text.Length, 2000)]}");
        Assert.True(text.Length < 64 * 1024, $"{name}: a {text.Length}-character answer");
        using var problem = JsonDocument.Parse(text);
        Assert.Equal(3, problem.RootElement.GetProperty("attempts").GetInt32());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), $"{name}: {text}");
        Assert.Equal(3, _upstream.Calls(model));
        Assert.All(_upstream.Requests(model), r => Assert.True(r.ToJsonString().Length < 256 * 1024, $"{name}: a retry repeated the whole answer"));
        using var listed = JsonDocument.Parse(await planning.GetStringAsync("/v1/plans"));
        Assert.Equal(0, listed.RootElement.GetArrayLength());
    }

    [Fact]
    public async Task AReferenceToAStepThatIsNotADependencyIsRepairedByAddingIt()
    {
        var model = Unique();
        _upstream.Script(model, Plan(
            Step("calc", "tool", "builtin.calculator", """{"expression":"2 + 3"}"""),
            Step("report", "model", arguments: """{"sum":"{{steps.calc.output.value}}"}""")));
        using var planning = await PlannerAsync("openai", model);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal = Goal, model = "planner" });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var plan = JsonDocument.Parse(text);
        Assert.Equal("""["calc"]""", plan.RootElement.GetProperty("steps")[1].GetProperty("dependsOn").GetRawText());
        Assert.Equal(1, plan.RootElement.GetProperty("planner").GetProperty("attempts").GetInt32());
        Assert.Contains("steps[1].dependsOn", plan.RootElement.GetProperty("planner").GetProperty("repairs")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AFailingUpstreamIsA502()
    {
        using var planning = await PlannerAsync("openai", $"broken-{Guid.NewGuid():N}"[..20]);

        using var response = await planning.PostAsJsonAsync("/v1/plans", new { goal = Goal, model = "planner" });

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARevisionKeepsACompletedStepThePlannerRewrote()
    {
        var model = Unique();
        _upstream.Script(model, ValidAnswer);
        using var planning = await PlannerAsync("openai", model);
        using var created = JsonDocument.Parse(await (await planning.PostAsJsonAsync("/v1/plans", new { goal = Goal, model = "planner" })).Content.ReadAsStringAsync());
        var id = created.RootElement.GetProperty("id").GetString();
        _upstream.Script(model, Plan(
            Step("calc", "tool", "builtin.calculator", """{"expression":"2 * 3"}""", title: "Rewritten"),
            Step("report2", "model", arguments: """{"sum":"{{steps.calc.output.value}}"}""", dependsOn: ["calc"])));

        using var response = await planning.PostAsJsonAsync($"/v1/plans/{id}/revisions",
            new { completed = new[] { new { stepId = "calc", output = new { value = 5 } } }, failed = new { stepId = "report", observation = "The model timed out." } });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        using var revision = JsonDocument.Parse(text);
        var calc = revision.RootElement.GetProperty("steps")[0];
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(created.RootElement.GetProperty("steps")[0].GetRawText()), JsonNode.Parse(calc.GetRawText())));
        Assert.Equal("""{"added":["report2"],"removed":["report"],"changed":[]}""", revision.RootElement.GetProperty("changes").GetRawText());
        Assert.Contains(revision.RootElement.GetProperty("planner").GetProperty("repairs").EnumerateArray(),
            r => r.GetString()!.Contains("restored completed step 'calc'", StringComparison.Ordinal));
        var document = JsonNode.Parse(_upstream.Requests(model)[^1]["messages"]![1]!["content"]!.GetValue<string>())!;
        Assert.Equal("report", document["failed"]!["stepId"]!.GetValue<string>());
        Assert.Equal(5, document["completed"]![0]!["output"]!["value"]!.GetValue<int>());
        Assert.Equal(2, document["previousPlan"]!["steps"]!.AsArray().Count);
    }

    /// <summary>A new tenant (admin key) whose alias <c>planner</c> is the fake upstream's <paramref name="model"/>.</summary>
    private async Task<HttpClient> PlannerAsync(string provider, string model)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);

        using (var gateway = platform.AppHost.Client("model", key))
        {
            (await gateway.PutAsJsonAsync("/v1/catalog/planner", new
            {
                strategy = "ordered",
                deployments = new[] { new { provider, baseUrl = _upstream.BaseUrl, apiKey = "sk-fake", model, inputPricePerMillion = 1, outputPricePerMillion = 2 } },
            })).EnsureSuccessStatusCode();
        }

        return platform.AppHost.Client("planning", key);
    }

    private static string Unique() => $"scripted-{Guid.NewGuid():N}"[..24];
}
