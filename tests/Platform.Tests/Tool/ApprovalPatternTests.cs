using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dapper;
using Npgsql;

namespace Platform.Tests.Tool;

/// <summary>Approval rules are checked when they are set, and no argument can make matching them hang or fail a call.</summary>
[Collection(PlatformCollection.Name)]
public sealed class ApprovalPatternTests(PlatformFixture platform)
{
    [Fact]
    public async Task ACatastrophicallyBacktrackingPatternIsMatchedInLinearTime()
    {
        var client = await TenantAsync();
        using var set = await client.PutAsJsonAsync("/v1/tools/builtin.memory_set/policy",
            new { approval = new { always = false, when = new[] { new { pointer = "/key", pattern = "^(a+)+$" } } } });

        var clock = Stopwatch.StartNew();
        var unmatched = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = new string('a', 190) + "!", value = 1 });
        var elapsed = clock.Elapsed;
        var matched = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "aaaa", value = 1 });

        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        Assert.Equal("succeeded", unmatched.GetProperty("status").GetString());
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"took {elapsed}");
        Assert.Equal("pending_approval", matched.GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("""{"approval":{"always":false,"when":[{"pointer":"/a","pattern":"(?<x>a)\\k<x>"}]}}""", "approval.when[0].pattern")]
    [InlineData("""{"approval":{"always":false,"when":[{"pointer":"/a","pattern":"(?=a)b"}]}}""", "approval.when[0].pattern")]
    [InlineData("""{"approval":{"always":false,"when":[{"pointer":"a","pattern":"x"}]}}""", "approval.when[0].pointer")]
    [InlineData("""{"approval":{"always":true,"expiresAfter":"10675199.00:00:00"}}""", "approval.expiresAfter")]
    [InlineData("""{"approval":{"always":true,"expiresAfter":"-00:00:01"}}""", "approval.expiresAfter")]
    [InlineData("""{"rateLimitPerMinute":0}""", "rateLimitPerMinute")]
    [InlineData("""{"rateLimitPerMinute":2000000000}""", "rateLimitPerMinute")]
    public async Task APolicyThatCouldFailLaterIsRefusedNamingTheField(string policy, string field)
    {
        var client = await TenantAsync();

        using var response = await client.PutAsync("/v1/tools/builtin.memory_set/policy", new StringContent(policy, Encoding.UTF8, "application/json"));
        var call = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "a", value = 1 });

        await ToolValidationTests.AssertRefusedAsync(response, field);
        Assert.Equal("succeeded", call.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AStoredRuleTheLinearEngineCannotRunAsksAHumanRatherThanFailing()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("tool", key);
        await using (var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("tooldb")))
        {
            await connection.ExecuteAsync("""
                INSERT INTO tool_policies (tenant_id, tool, approval)
                VALUES (@tenantId, 'builtin.memory_set', '{"always":false,"when":[{"pointer":"/key","pattern":"^(\\w+)\\1$"}],"expiresAfter":"9999999.00:00:00"}'::jsonb)
                """, new { tenantId });
        }

        var call = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "abc", value = 1 });

        Assert.Equal("pending_approval", call.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AnOverlongReasonIsRefusedAndTheApprovalStaysPending()
    {
        var client = await TenantAsync();
        (await client.PutAsJsonAsync("/v1/tools/builtin.memory_set/policy", new { approval = new { always = true } })).EnsureSuccessStatusCode();
        var pending = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "k", value = 1 });
        var approvalId = pending.GetProperty("approvalId").GetString();

        using var response = await client.PostAsJsonAsync($"/v1/approvals/{approvalId}/deny", new { reason = new string('r', 5000) });
        var approval = await client.GetFromJsonAsync<System.Text.Json.JsonElement>($"/v1/approvals/{approvalId}");

        await ToolValidationTests.AssertRefusedAsync(response, "reason");
        Assert.Equal("pending", approval.GetProperty("status").GetString());
    }

    private async Task<HttpClient> TenantAsync()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        return platform.AppHost.Client("tool", key);
    }
}
