using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace Platform.Tests.Tool;

/// <summary>A tool's argument schema never makes the service fetch anything, whether it came through the API or not.</summary>
[Collection(PlatformCollection.Name)]
public sealed class SchemaReferenceTests(PlatformFixture platform)
{
    [Fact]
    public async Task ARemoteRefIsRefusedOnWriteAndAStoredOneIsNeverFetched()
    {
        using var target = new ConnectionCounter();
        var remote = $"http://127.0.0.1:{target.Port}/x.json";
        var (tenantId, key) = await platform.NewTenantAsync("tools");
        using var client = platform.AppHost.Client("tool", key);

        using var refused = await client.PutAsJsonAsync("/v1/tools/http.remote", Tool(new { type = "object", properties = new { a = new Dictionary<string, string> { ["$ref"] = remote } } }));
        (await client.PutAsJsonAsync("/v1/tools/http.stored", Tool(new { type = "object" }))).EnsureSuccessStatusCode();
        await using (var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("tooldb")))
        {
            await connection.ExecuteAsync("UPDATE tools SET parameters = @schema::jsonb WHERE tenant_id = @tenantId AND name = 'http.stored'",
                new { tenantId, schema = "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"" + remote + "\"}}}" });
        }

        using var invoked = await client.PostAsJsonAsync("/v1/tools/http.stored/invocations", new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { a = 1 } });
        using var listed = await client.GetAsync("/v1/tools");
        using var read = await client.GetAsync("/v1/tools/http.stored");

        await ToolValidationTests.AssertRefusedAsync(refused, "parameters");
        Assert.Contains("never fetched", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, invoked.StatusCode);
        using (var problem = JsonDocument.Parse(await invoked.Content.ReadAsStringAsync()))
        {
            Assert.Equal("parameters", problem.RootElement.GetProperty("field").GetString());
        }

        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(0, await target.AcceptedBeforeMarkerAsync());
    }

    private static object Tool(object parameters) => new
    {
        description = "A tool whose schema points elsewhere",
        sideEffect = "read_only",
        parameters,
        http = new { method = "GET", url = "https://example.com/x" },
    };
}
