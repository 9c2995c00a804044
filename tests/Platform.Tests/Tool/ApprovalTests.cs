using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests.Tool;

[Collection(PlatformCollection.Name)]
public sealed class ApprovalTests(PlatformFixture platform)
{
    [Fact]
    public async Task AnApprovedCallRunsExactlyOnce()
    {
        var (client, approver) = await TenantWithPolicyAsync(new { always = true });
        var key = Guid.NewGuid().ToString();

        var pending = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "approved", value = 1 }, key);
        Assert.Equal("pending_approval", pending.GetProperty("status").GetString());
        var approvalId = pending.GetProperty("approvalId").GetString();
        using (var listed = JsonDocument.Parse(await approver.GetStringAsync("/v1/approvals")))
        {
            Assert.Contains(listed.RootElement.EnumerateArray(), a => a.GetProperty("id").GetString() == approvalId);
        }

        var decisions = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ =>
            approver.PostAsJsonAsync($"/v1/approvals/{approvalId}/approve", new { reason = "looks fine" })));
        var replay = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "approved", value = 1 }, key);

        Assert.Single(decisions, d => d.StatusCode == HttpStatusCode.OK);
        Assert.All(decisions.Where(d => d.StatusCode != HttpStatusCode.OK), d => Assert.Equal(HttpStatusCode.Conflict, d.StatusCode));
        using var approved = JsonDocument.Parse(await decisions.Single(d => d.StatusCode == HttpStatusCode.OK).Content.ReadAsStringAsync());
        Assert.Equal("succeeded", approved.RootElement.GetProperty("invocation").GetProperty("status").GetString());
        Assert.Equal("succeeded", replay.GetProperty("status").GetString());
        using var approval = JsonDocument.Parse(await client.GetStringAsync($"/v1/approvals/{approvalId}"));
        Assert.Equal("looks fine", approval.RootElement.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(approval.RootElement.GetProperty("decidedBy").GetString()));
    }

    [Fact]
    public async Task ADeniedCallNeverRuns()
    {
        var (client, approver) = await TenantWithPolicyAsync(new { always = true });
        var pending = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "denied", value = 1 });

        using var denied = await approver.PostAsJsonAsync($"/v1/approvals/{pending.GetProperty("approvalId").GetString()}/deny", new { reason = "no" });
        var read = await InvocationTests.InvokeAsync(client, "builtin.memory_get", new { key = "denied" });

        Assert.Equal(HttpStatusCode.OK, denied.StatusCode);
        using var body = JsonDocument.Parse(await denied.Content.ReadAsStringAsync());
        Assert.Equal("denied", body.RootElement.GetProperty("invocation").GetProperty("status").GetString());
        Assert.False(read.GetProperty("result").GetProperty("found").GetBoolean());
    }

    [Fact]
    public async Task AnUndecidedApprovalExpiresAsDenied()
    {
        var (client, approver) = await TenantWithPolicyAsync(new { always = true, expiresAfter = "00:00:01" });
        var pending = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "late", value = 1 });
        var invocationId = pending.GetProperty("id").GetString();

        await WaitUntilAsync("the undecided approval to expire", TimeSpan.FromSeconds(12),
            async () => (await client.GetFromJsonAsync<JsonElement>($"/v1/invocations/{invocationId}")).GetProperty("status").GetString(),
            status => status == "expired");

        using var late = await approver.PostAsJsonAsync($"/v1/approvals/{pending.GetProperty("approvalId").GetString()}/approve", new { reason = "too late" });
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
    }

    [Fact]
    public async Task AnArgumentPatternDecidesWhichCallsNeedApproval()
    {
        var (client, _) = await TenantWithPolicyAsync(new { always = false, when = new[] { new { pointer = "/value/amount", pattern = "^[0-9]{4,}$" } } });

        var small = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "payment", value = new { amount = 25 } });
        var large = await InvocationTests.InvokeAsync(client, "builtin.memory_set", new { key = "payment", value = new { amount = 25000 } });

        Assert.Equal("succeeded", small.GetProperty("status").GetString());
        Assert.Equal("pending_approval", large.GetProperty("status").GetString());
    }

    [Fact]
    public async Task OneTenantCannotSeeOrDecideAnothersApprovals()
    {
        var (alice, _) = await TenantWithPolicyAsync(new { always = true });
        var (_, bobKey) = await platform.NewTenantAsync("admin");
        using var bob = platform.AppHost.Client("tool", bobKey);
        var pending = await InvocationTests.InvokeAsync(alice, "builtin.memory_set", new { key = "mine", value = 1 });
        var approvalId = pending.GetProperty("approvalId").GetString();

        Assert.Equal(HttpStatusCode.NotFound, (await bob.PostAsJsonAsync($"/v1/approvals/{approvalId}/approve", new { reason = "sneaky" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await bob.GetAsync($"/v1/invocations/{pending.GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal("[]", await bob.GetStringAsync("/v1/approvals"));
    }

    [Fact]
    public async Task ARateLimitedToolAnswers429()
    {
        var (client, _) = await TenantWithPolicyAsync(null, rateLimitPerMinute: 2);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.PostAsJsonAsync("/v1/tools/builtin.memory_set/invocations",
                new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { key = "k", value = i } });
            statuses.Add(response.StatusCode);
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
    }

    [Fact]
    public async Task TheKeyThatMadeACallCannotDecideItsApprovalNorCanAToolsKey()
    {
        var (tenantId, adminKey) = await platform.NewTenantAsync("admin");
        using var admin = platform.AppHost.Client("tool", adminKey);
        (await admin.PutAsJsonAsync("/v1/tools/builtin.memory_set/policy", new { approval = new { always = true } })).EnsureSuccessStatusCode();
        using var toolsOnly = platform.AppHost.Client("tool", await platform.IssueKeyAsync(tenantId, "tools"));
        using var approver = platform.AppHost.Client("tool", await platform.IssueKeyAsync(tenantId, "approve"));
        var pending = await InvocationTests.InvokeAsync(admin, "builtin.memory_set", new { key = "own", value = 1 });
        var approvalId = pending.GetProperty("approvalId").GetString();

        using var byCaller = await admin.PostAsJsonAsync($"/v1/approvals/{approvalId}/approve", new { reason = "mine" });
        using var byToolsKey = await toolsOnly.PostAsJsonAsync($"/v1/approvals/{approvalId}/approve", new { reason = "mine too" });
        var stillPending = await admin.GetFromJsonAsync<JsonElement>($"/v1/approvals/{approvalId}");
        using var byApprover = await approver.PostAsJsonAsync($"/v1/approvals/{approvalId}/approve", new { reason = "four eyes" });

        Assert.Equal(HttpStatusCode.Forbidden, byCaller.StatusCode);
        Assert.Contains("cannot decide", await byCaller.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, byToolsKey.StatusCode);
        Assert.Equal("pending", stillPending.GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, byApprover.StatusCode);
    }

    /// <summary>A tenant whose calls come from a <c>tools</c> key and are decided by another key with the approve scope.</summary>
    private async Task<(HttpClient Caller, HttpClient Approver)> TenantWithPolicyAsync(object? approval, int? rateLimitPerMinute = null)
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var admin = platform.AppHost.Client("tool", key);
        (await admin.PutAsJsonAsync("/v1/tools/builtin.memory_set/policy", new { approval, rateLimitPerMinute })).EnsureSuccessStatusCode();
        return (platform.AppHost.Client("tool", await platform.IssueKeyAsync(tenantId, "tools")),
            platform.AppHost.Client("tool", await platform.IssueKeyAsync(tenantId, "approve")));
    }
}
