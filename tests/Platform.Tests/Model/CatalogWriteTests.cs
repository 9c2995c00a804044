using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Tests.Model;

/// <summary>
/// The gateway's own APIs (catalog, budgets, usage) refuse on write what would fail a later request, with a 400
/// problem+json naming the field, and store nothing: the reads after still work.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class CatalogWriteTests(PlatformFixture platform)
{
    [Theory]
    [InlineData("attemptTimeout", "\"-00:00:05\"")]
    [InlineData("attemptTimeout", "\"3.00:00:00\"")]
    [InlineData("attemptTimeout", "\"00:00:00.001\"")]
    [InlineData("inputPricePerMillion", "1e28")]
    [InlineData("outputPricePerMillion", "-1")]
    [InlineData("contextWindow", "0")]
    [InlineData("contextWindow", "2000000000")]
    [InlineData("weight", "5000")]
    [InlineData("rpm", "0")]
    [InlineData("tpm", "-5")]
    [InlineData("baseUrl", "\"http://user:secret@api.example.com/v1\"")]
    [InlineData("baseUrl", "\"file:///etc/passwd\"")]
    [InlineData("baseUrl", "\"/v1\"")]
    [InlineData("baseUrl", "\"https://api.example.com/v1?key=x\"")]
    [InlineData("apiKey", "\"sk-with\\nnewline\"")]
    [InlineData("name", "\"two words\"")]
    [InlineData("model", "\"\"")]
    [InlineData("model", "\"gpt\\u0007\"")]
    public async Task AnAliasOutOfBoundsIsRefusedNamingTheFieldAndNothingIsStored(string property, string value)
    {
        var (_, key) = await platform.NewTenantAsync("admin", "models");
        using var client = platform.AppHost.Client("model", key);
        var deployment = new JsonObject { ["provider"] = "openai", ["baseUrl"] = "https://api.example.com/v1", ["model"] = "gpt-4o" };
        deployment[property] = JsonNode.Parse(value);
        var body = new JsonObject { ["strategy"] = "ordered", ["deployments"] = new JsonArray(deployment) };

        using var response = await client.PutAsync("/v1/catalog/bounded", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"));

        await AssertValidationProblemAsync(response, $"deployments[0].{property}");
        await AssertCatalogReadsWithoutAsync(client, "bounded");
    }

    [Theory]
    [InlineData("bad alias")]
    [InlineData("way-too-long-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task AnAliasNameOutsideItsCharsetIsRefused(string alias)
    {
        var (_, key) = await platform.NewTenantAsync("admin", "models");
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PutAsJsonAsync($"/v1/catalog/{Uri.EscapeDataString(alias)}",
            new { strategy = "ordered", deployments = new[] { new { provider = "simulator", model = "platform-simulator-1" } } });

        await AssertValidationProblemAsync(response, "alias");
    }

    [Theory]
    [InlineData("""{"strategy":"fastest","deployments":[{"provider":"simulator","model":"m"}]}""", "strategy")]
    [InlineData("""{"strategy":"ordered","deployments":[]}""", "deployments")]
    [InlineData("""{"strategy":"ordered","deployments":[{"provider":"nope","model":"m"}]}""", "deployments[0].provider")]
    [InlineData("""{"strategy":"ordered","deployments":[{"provider":"openai","model":"m"}]}""", "deployments[0].baseUrl")]
    public async Task AnAliasWithoutAUsableRouteIsRefused(string body, string field)
    {
        var (_, key) = await platform.NewTenantAsync("admin", "models");
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PutAsync("/v1/catalog/unroutable", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertValidationProblemAsync(response, field);
        await AssertCatalogReadsWithoutAsync(client, "unroutable");
    }

    [Fact]
    public async Task AnAliasOfTwentyOneDeploymentsIsRefused()
    {
        var (_, key) = await platform.NewTenantAsync("admin", "models");
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PutAsJsonAsync("/v1/catalog/crowded",
            new { strategy = "ordered", deployments = Enumerable.Range(0, 21).Select(i => new { provider = "simulator", model = $"m{i}" }) });

        await AssertValidationProblemAsync(response, "deployments");
    }

    [Fact]
    public async Task AnAliasAtTheEdgesOfEveryBoundIsStoredAndServes()
    {
        var (_, key) = await platform.NewTenantAsync("admin", "models");
        using var client = platform.AppHost.Client("model", key);

        using var put = await client.PutAsJsonAsync("/v1/catalog/edges", new
        {
            strategy = "weighted",
            deployments = new[]
            {
                new { provider = "simulator", model = "platform-simulator-1", inputPricePerMillion = 1_000_000m, outputPricePerMillion = 0m,
                    contextWindow = 10_000_000, weight = 1000, attemptTimeout = "00:10:00", rpm = 10_000_000 },
                new { provider = "simulator", model = "platform-simulator-1", inputPricePerMillion = 0m, outputPricePerMillion = 0m,
                    contextWindow = 1_000, weight = 1, attemptTimeout = "00:00:01", rpm = 1 },
            },
        });
        using var chat = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "edges", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    [Theory]
    [InlineData("""{"dailyUsd":1e15}""", "dailyUsd")]
    [InlineData("""{"monthlyUsd":-0.01}""", "monthlyUsd")]
    [InlineData("""{"dailyUsd":1000000001}""", "dailyUsd")]
    [InlineData("""{"rpm":0}""", "rpm")]
    [InlineData("""{"rpm":100000000}""", "rpm")]
    [InlineData("""{"tpm":-1}""", "tpm")]
    public async Task AKeyBudgetOutOfBoundsIsRefusedNamingTheFieldAndRequestsStillWork(string body, string field)
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin", "models");
        using var client = platform.AppHost.Client("model", key);
        var keyId = await KeyIdAsync(key);

        using var response = await client.PutAsync($"/v1/budgets/tenants/{tenantId}/keys/{keyId}", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertValidationProblemAsync(response, field);
        Assert.Equal("[]", await client.GetStringAsync($"/v1/budgets/tenants/{tenantId}"));
        using var chat = await client.PostAsJsonAsync("/v1/chat/completions", new { model = "simulator", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    [Fact]
    public async Task ATenantBudgetOfAQuadrillionDollarsIsRefused()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin", "models");
        using var admin = platform.Admin("model");

        using var response = await admin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = 1e15m });

        await AssertValidationProblemAsync(response, "dailyUsd");
        using var client = platform.AppHost.Client("model", key);
        Assert.Equal("[]", await client.GetStringAsync($"/v1/budgets/tenants/{tenantId}"));
    }

    [Fact]
    public async Task ABudgetForAnotherTenantIsA404ProblemJson()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PutAsJsonAsync("/v1/budgets/tenants/someone-else/keys/k1", new { dailyUsd = 1 });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("from=2024-01-01&to=9999-12-31", "to")]
    [InlineData("from=0001-01-01&to=2024-01-01", "from")]
    [InlineData("from=2100-01-02", "from")]
    [InlineData("from=2024-02-01&to=2024-01-01", "to")]
    [InlineData("from=2020-01-01&to=2024-01-01", "to")]
    public async Task UsageDatesOutOfBoundsAreRefusedNamingTheField(string query, string field)
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.GetAsync($"/v1/usage?{query}");

        await AssertValidationProblemAsync(response, field);
        using var later = await client.GetAsync("/v1/usage?from=2024-01-01&to=2025-12-31");
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
    }

    private static async Task AssertValidationProblemAsync(HttpResponseMessage response, string field)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(body);
        var errors = problem.RootElement.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToList();
        Assert.True(errors.Contains(field), $"{field} not in {string.Join(", ", errors)}");
    }

    private static async Task AssertCatalogReadsWithoutAsync(HttpClient client, string alias)
    {
        using var list = JsonDocument.Parse(await client.GetStringAsync("/v1/catalog"));
        Assert.DoesNotContain(list.RootElement.EnumerateArray(), a => a.GetProperty("alias").GetString() == alias);
        using var chat = await client.PostAsJsonAsync("/v1/chat/completions", new { model = alias, messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.NotFound, chat.StatusCode);
    }

    private async Task<string> KeyIdAsync(string key)
    {
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        using var me = JsonDocument.Parse(await orchestrator.GetStringAsync("/v1/me"));
        return me.RootElement.GetProperty("keyId").GetString()!;
    }
}
