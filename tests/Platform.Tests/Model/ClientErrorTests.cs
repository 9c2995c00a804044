using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.Model;

/// <summary>
/// A client's mistake on the OpenAI-compatible endpoints is a 4xx in OpenAI's shape naming the parameter, never an
/// upstream failure: it reaches no upstream when the gateway can tell, is passed back when only the upstream can, and
/// never cools a deployment down for other tenants.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class ClientErrorTests(PlatformFixture platform) : IAsyncLifetime
{
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"no-such-model","messages":[{"role":"user","content":"hi"}]}""")]
    [InlineData("/v1/embeddings", """{"model":"no-such-model","input":"hi"}""")]
    public async Task AnUnknownModelIsA404ModelNotFound(string path, string body)
    {
        var (_, key) = await platform.NewTenantAsync("models");
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PostAsync(path, Json(body));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.NotFound);
        Assert.Equal("model_not_found", error.GetProperty("code").GetString());
    }

    [Fact]
    public async Task AnotherTenantsAliasIsA404ModelNotFound()
    {
        var (_, owner) = await platform.NewTenantAsync("admin");
        using (var ownerClient = platform.AppHost.Client("model", owner))
        {
            (await ownerClient.PutAsJsonAsync("/v1/catalog/private-alias",
                new { strategy = "ordered", deployments = new[] { new { provider = "simulator", model = "platform-simulator-1" } } })).EnsureSuccessStatusCode();
        }

        var (_, stranger) = await platform.NewTenantAsync("models");
        using var client = platform.AppHost.Client("model", stranger);

        using var chat = await client.PostAsync("/v1/chat/completions", Json("""{"model":"private-alias","messages":[{"role":"user","content":"hi"}]}"""));
        using var embeddings = await client.PostAsync("/v1/embeddings", Json("""{"model":"private-alias","input":"hi"}"""));

        Assert.Equal("model_not_found", (await OpenAiErrorAsync(chat, HttpStatusCode.NotFound)).GetProperty("code").GetString());
        Assert.Equal("model_not_found", (await OpenAiErrorAsync(embeddings, HttpStatusCode.NotFound)).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""[{"type":5,"text":"hi"}]""", "messages[0].content[0].type")]
    [InlineData("""[{"type":"video","url":"x"}]""", "messages[0].content[0].type")]
    [InlineData("""[{"type":"text","text":"a"},{"type":null}]""", "messages[0].content[1].type")]
    [InlineData("""[7]""", "messages[0].content[0]")]
    [InlineData("""[{"type":"text","text":5}]""", "messages[0].content[0].text")]
    public async Task AContentPartOfAnUnknownTypeIsA400NamingIt(string content, string param)
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/chat/completions",
            Json($$"""{"model":"simulator","messages":[{"role":"user","content":{{content}}}]}"""));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task DuplicateKeysOnEmbeddingsAreA400NamingTheKey()
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/embeddings", Json("""{"model":"simulator","input":"hi","input":["a","b"]}"""));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("input", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("/v1/chat/completions", """{"model":"simu\ud800lator","messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("/v1/chat/completions", """{"model":"simulator","messages":[{"role":"us\udc00er","content":"hi"}]}""", "messages[0].role")]
    [InlineData("/v1/embeddings", """{"model":"simulator","input":["fine","bad \ud800"]}""", "input[1]")]
    [InlineData("/v1/embeddings", """{"model":"\udfff","input":"hi"}""", "model")]
    public async Task ALoneSurrogateIsA400NamingTheField(string path, string body, string param)
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync(path, Json(body));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("""{"type":5}""", "response_format.json_schema.schema.type")]
    [InlineData("\"an object, it is not\"", "response_format.json_schema.schema")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"strnig"}}}""", "response_format.json_schema.schema.properties.a.type")]
    [InlineData("""{"type":"array","items":{"type":"string","minLength":-1}}""", "response_format.json_schema.schema.items.minLength")]
    [InlineData("""{"type":"object","required":"a"}""", "response_format.json_schema.schema.required")]
    [InlineData("""{"anyOf":[]}""", "response_format.json_schema.schema.anyOf")]
    public async Task AMalformedResponseFormatSchemaIsA400BeforeAnyUpstreamCall(string schema, string param)
    {
        var model = Unique("ok");
        var key = await AliasAsync("checked", model);
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PostAsync("/v1/chat/completions", SchemaRequest("checked", schema));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(0, _upstream.Calls(model));
    }

    [Fact]
    public async Task AToolWithAMalformedParametersSchemaIsA400NamingIt()
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/chat/completions", Json("""
            {"model":"simulator","messages":[{"role":"user","content":"call get_time"}],
             "tools":[{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"zone":{"type":["string",3]}}}}}]}
            """));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("tools[0].function.parameters.properties.zone.type", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("picky", HttpStatusCode.BadRequest)]
    [InlineData("missing", HttpStatusCode.NotFound)]
    [InlineData("unprocessable", HttpStatusCode.UnprocessableEntity)]
    public async Task AnUpstreamRefusingTheRequestIsPassedBackAndTheDeploymentStaysFirstForAnotherTenant(string behaviour, HttpStatusCode status)
    {
        var (refused, fallback) = (Unique(behaviour), Unique("ok"));
        var first = await AliasAsync("shared", refused, fallback);
        var second = await AliasAsync("shared", refused, Unique("ok"));
        using var firstClient = platform.AppHost.Client("model", first);
        using var secondClient = platform.AppHost.Client("model", second);

        using var bad = await firstClient.PostAsync("/v1/chat/completions", Json("""
            {"model":"shared","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}
            """));
        var error = await OpenAiErrorAsync(bad, status);
        Assert.Equal(1, _upstream.Calls(refused));
        Assert.Equal(0, _upstream.Calls(fallback));
        Assert.Contains("refused the request", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        using var next = await secondClient.PostAsync("/v1/chat/completions", Json("""{"model":"shared","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal(2, _upstream.Calls(refused));
        if (behaviour == "picky")
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
            Assert.Equal("shared/0", next.Headers.GetValues("x-platform-deployment").Single());
        }
    }

    [Fact]
    public async Task AContextWindowErrorFromEveryDeploymentIsA400AndCoolsNothingDown()
    {
        var tooLong = Unique("toolong");
        var key = await AliasAsync("narrow", tooLong);
        var other = await AliasAsync("narrow", tooLong, Unique("ok"));
        using var client = platform.AppHost.Client("model", key);
        using var otherClient = platform.AppHost.Client("model", other);

        using var response = await client.PostAsync("/v1/chat/completions", Json("""{"model":"narrow","messages":[{"role":"user","content":"hi"}]}"""));
        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        using var next = await otherClient.PostAsync("/v1/chat/completions", Json("""{"model":"narrow","messages":[{"role":"user","content":"hi"}]}"""));

        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        Assert.Equal(2, _upstream.Calls(tooLong));
    }

    [Theory]
    [InlineData("""{"type":"array","minItems":1000000000,"items":{"type":"string"}}""", "minItems")]
    [InlineData("""{"type":"array","minItems":1e9,"items":{"type":"string"}}""", "minItems")]
    [InlineData("""{"type":"string","minLength":1000000000}""", "minLength")]
    [InlineData("""{"type":"string","minLength":1e9}""", "minLength")]
    [InlineData("""{"type":"object","minProperties":1000000000}""", "minProperties")]
    [InlineData("""{"type":"array","minItems":64,"items":{"type":"array","minItems":64,"items":{"type":"array","minItems":64,"items":{"type":"string","minLength":4096}}}}""", "characters")]
    public async Task TheSimulatorRefusesASchemaItCannotBuildWithinBoundsAndStaysFirstForAnotherTenant(string schema, string reason)
    {
        var simulated = $"sim-{Guid.NewGuid():N}"[..16];
        var (_, key) = await platform.NewTenantAsync("admin");
        var (_, other) = await platform.NewTenantAsync("admin");
        foreach (var tenantKey in new[] { key, other })
        {
            using var admin = platform.AppHost.Client("model", tenantKey);
            (await admin.PutAsJsonAsync("/v1/catalog/bounded", new
            {
                strategy = "ordered",
                deployments = new[] { new { name = "first", provider = "simulator", model = simulated }, new { name = "second", provider = "simulator", model = "platform-simulator-1" } },
            })).EnsureSuccessStatusCode();
        }

        using var client = platform.AppHost.Client("model", key);
        using var response = await client.PostAsync("/v1/chat/completions", SchemaRequest("bounded", schema));
        using var otherClient = platform.AppHost.Client("model", other);
        using var next = await otherClient.PostAsync("/v1/chat/completions", Json("""{"model":"bounded","messages":[{"role":"user","content":"hi"}]}"""));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(reason, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("response_format.json_schema.schema", error.GetProperty("param").GetString());
        Assert.Equal("first", next.Headers.GetValues("x-platform-deployment").Single());
    }

    [Theory]
    [InlineData("""{"type":"array","minItems":64,"maxItems":64,"items":{"type":"integer","minimum":3}}""")]
    [InlineData("""{"type":"string","minLength":4096,"maxLength":4096}""")]
    [InlineData("""{"type":"object","minProperties":64,"properties":{"a":{"type":"string"}},"required":["a"]}""")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#"},"b":{"$ref":"#"},"c":{"$ref":"#"},"d":{"$ref":"#"},"e":{"$ref":"#"},"f":{"$ref":"#"}}}""")]
    public async Task TheSimulatorBuildsASchemaValidValueAtItsBounds(string schema)
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/chat/completions", SchemaRequest("simulator", schema));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var completion = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var content = completion.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        var errors = (await NJsonSchema.JsonSchema.FromJsonAsync(schema)).Validate(content);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task AToolSchemaAskingForABillionItemsIsA400NamingTheTool()
    {
        using var client = platform.Admin("model");

        using var response = await client.PostAsync("/v1/chat/completions", Json("""
            {"model":"simulator","messages":[{"role":"user","content":"call get_list"}],
             "tools":[{"type":"function","function":{"name":"get_list","parameters":{"type":"object","properties":{"ids":{"type":"array","minItems":1000000000,"items":{"type":"string"}}},"required":["ids"]}}}]}
            """));

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("tools[0].function.parameters", error.GetProperty("param").GetString());
    }

    [Theory]
    [InlineData("/v1/chat/completions")]
    [InlineData("/v1/embeddings")]
    public async Task ABodyOverTheLimitIsA413InOpenAisShape(string path)
    {
        using var client = platform.Admin("model");
        var huge = "{\"model\":\"simulator\",\"input\":\"" + new string('x', 9 * 1024 * 1024) + "\"}";
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = Json(huge) };
        request.Headers.ExpectContinue = true;

        using var response = await client.SendAsync(request);

        Assert.Equal("request_too_large", (await OpenAiErrorAsync(response, HttpStatusCode.RequestEntityTooLarge)).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("POST", "/v1/chat/completions", null, HttpStatusCode.Unauthorized, "invalid_api_key")]
    [InlineData("POST", "/v1/embeddings", null, HttpStatusCode.Unauthorized, "invalid_api_key")]
    [InlineData("GET", "/v1/models", null, HttpStatusCode.Unauthorized, "invalid_api_key")]
    [InlineData("POST", "/v1/chat/completions", "tools", HttpStatusCode.Forbidden, "insufficient_permissions")]
    [InlineData("GET", "/v1/models", "tools", HttpStatusCode.Forbidden, "insufficient_permissions")]
    public async Task AuthenticationErrorsAreInOpenAisShape(string method, string path, string? scope, HttpStatusCode status, string code)
    {
        var key = scope is null ? "plt_wrongwrongwrongwrongwrongwrong12" : (await platform.NewTenantAsync(scope)).Key;
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = method == "POST" ? Json("""{"model":"simulator","input":"hi","messages":[]}""") : null,
        });

        Assert.Equal(code, (await OpenAiErrorAsync(response, status)).GetProperty("code").GetString());
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static StringContent SchemaRequest(string model, string schema) => Json(
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"answer","schema":""" + schema + "}}}");

    private static async Task<JsonElement> OpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(body);
        var error = document.RootElement.GetProperty("error").Clone();
        Assert.Equal(status >= HttpStatusCode.InternalServerError ? "server_error" : status == HttpStatusCode.Forbidden ? "permission_error" : "invalid_request_error",
            error.GetProperty("type").GetString());
        return error;
    }

    private static string Unique(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}"[..20];

    /// <summary>A new tenant whose alias routes to the fake upstream's models, in order; returns its admin key.</summary>
    private async Task<string> AliasAsync(string alias, params string[] models)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);
        using var client = platform.AppHost.Client("model", key);
        (await client.PutAsJsonAsync($"/v1/catalog/{alias}", new
        {
            strategy = "ordered",
            deployments = models.Select(m => new { provider = "openai", baseUrl = _upstream.BaseUrl, model = m }),
        })).EnsureSuccessStatusCode();
        return key;
    }
}
