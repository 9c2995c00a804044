using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;


namespace Platform.Tests.Model;

/// <summary>Budgets and rate limits hold under concurrency and across two gateway replicas sharing one Redis.</summary>
[Collection(PlatformCollection.Name)]
public sealed class BudgetTests(PlatformFixture platform)
{
    [Fact]
    public async Task FiftyConcurrentRequestsAcrossTwoReplicasNeverOverrunATenantBudget()
    {
        const decimal budget = 0.05m;
        var (tenantId, key) = await PricedTenantAsync();
        using (var admin = platform.Admin("model"))
        {
            (await admin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = budget })).EnsureSuccessStatusCode();
        }

        var replicas = platform.AppHost.Replicas("model");
        Assert.Equal(2, replicas.Count);
        using var first = PlatformApp.ClientFor(replicas[0].Url!, key);
        using var second = PlatformApp.ClientFor(replicas[1].Url!, key);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            var client = i % 2 == 0 ? first : second;
            using var response = await client.PostAsJsonAsync("/v1/chat/completions",
                new { model = "priced", max_tokens = 50, messages = new[] { new { role = "user", content = $"request {i}" } } });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.Equal("insufficient_quota", error.RootElement.GetProperty("error").GetProperty("code").GetString());
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            }

            return response.StatusCode;
        }));

        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, s.ToString()));
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        var usage = await UsageAsync(tenantId, expectedRequests: 50);
        Assert.True(usage.Cost <= budget, $"spent {usage.Cost} of {budget}");
        Assert.Equal(statuses.Count(s => s == HttpStatusCode.OK), usage.Succeeded);
    }

    [Fact]
    public async Task AKeyBeyondItsRequestsPerMinuteGets429WithRetryAfter()
    {
        var (tenantId, key) = await PricedTenantAsync();
        var keyId = await KeyIdAsync(key);
        using (var admin = platform.Admin("model"))
        {
            (await admin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}/keys/{keyId}", new { rpm = 3 })).EnsureSuccessStatusCode();
        }

        using var client = platform.AppHost.Client("model", key);
        var responses = new List<HttpResponseMessage>();
        // Seven requests: even split across a minute boundary, one window sees at least four.
        for (var i = 0; i < 7; i++)
        {
            responses.Add(await client.PostAsJsonAsync("/v1/chat/completions", new { model = "simulator", messages = new[] { new { role = "user", content = "hi" } } }));
        }

        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(refused);
        using var error = JsonDocument.Parse(await refused[0].Content.ReadAsStringAsync());
        Assert.Equal("rate_limit_exceeded", error.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.InRange(refused[0].Headers.RetryAfter!.Delta!.Value.TotalSeconds, 1, 60);
    }

    [Fact]
    public async Task AKeyWithASpentBudgetGetsInsufficientQuota()
    {
        var (tenantId, key) = await PricedTenantAsync();
        var keyId = await KeyIdAsync(key);
        using var admin = platform.AppHost.Client("model", key);
        (await admin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}/keys/{keyId}", new { dailyUsd = 0 })).EnsureSuccessStatusCode();

        using var response = await admin.PostAsJsonAsync("/v1/chat/completions", new { model = "priced", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.Contains("key daily budget", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATenantAdminCannotSetItsOwnTenantBudget()
    {
        var (tenantId, key) = await PricedTenantAsync();
        using var client = platform.AppHost.Client("model", key);

        using var response = await client.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = 1000 });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task TheLedgerRecordsEveryRequestWithTokensAndCost()
    {
        var (tenantId, key) = await PricedTenantAsync();
        using var client = platform.AppHost.Client("model", key);
        for (var i = 0; i < 3; i++)
        {
            (await client.PostAsJsonAsync("/v1/chat/completions", new { model = "priced", messages = new[] { new { role = "user", content = $"hello {i}" } } }))
                .EnsureSuccessStatusCode();
        }

        var usage = await UsageAsync(tenantId, expectedRequests: 3);

        Assert.Equal(3, usage.Succeeded);
        Assert.True(usage.Cost > 0);
        Assert.True(usage.OutputTokens > 0);
    }

    [Fact]
    public async Task AReplicaStoppedRightAfterItsRequestsHasWrittenThemAllToTheLedger()
    {
        var (tenantId, key) = await PricedTenantAsync();
        var replica = platform.AppHost.Replicas("model")[^1];
        using (var client = PlatformApp.ClientFor(replica.Url!, key))
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
                client.PostAsJsonAsync("/v1/chat/completions", new { model = "priced", messages = new[] { new { role = "user", content = $"n{i}" } } })));
        }

        await platform.AppHost.RunCommandAsync(replica.Id, "stop");
        try
        {
            await WaitUntilAsync($"{replica.Id} to stop", TimeSpan.FromSeconds(30), () => platform.AppHost.State(replica.Id) is not ("Running" or "Stopping"));
            var usage = await UsageAsync(tenantId, expectedRequests: 20);

            Assert.Equal(20, usage.Succeeded);
        }
        finally
        {
            await platform.AppHost.RunCommandAsync(replica.Id, "start");
            await platform.AppHost.WaitUntilReplicasServeAsync("model", 2);
        }
    }

    /// <summary>A tenant with an admin key and an alias <c>priced</c>: the simulator at $100 per million tokens each way.</summary>
    [Fact]
    public async Task APlatformAdminReadsEveryTenantsSpendTodayAgainstItsBudgetAndATenantsAdminCannot()
    {
        var (tenantId, key) = await PricedTenantAsync();
        using (var admin = platform.Admin("model"))
        {
            (await admin.PutAsJsonAsync($"/v1/budgets/tenants/{tenantId}", new { dailyUsd = 5 })).EnsureSuccessStatusCode();
        }

        using (var client = platform.AppHost.Client("model", key))
        {
            (await client.PostAsJsonAsync("/v1/chat/completions", new { model = "priced", messages = new[] { new { role = "user", content = "hello" } } })).EnsureSuccessStatusCode();
            using var refused = await client.GetAsync("/v1/usage/tenants");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        }

        var cost = (await UsageAsync(tenantId, expectedRequests: 1)).Cost;
        using var platformAdmin = platform.Admin("model");
        using var spend = JsonDocument.Parse(await platformAdmin.GetStringAsync("/v1/usage/tenants"));
        var row = spend.RootElement.GetProperty("data").EnumerateArray().Single(r => r.GetProperty("tenantId").GetString() == tenantId);

        Assert.Equal(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), spend.RootElement.GetProperty("date").GetString());
        Assert.Equal(1, row.GetProperty("requests").GetInt32());
        Assert.Equal(cost, row.GetProperty("costUsd").GetDecimal());
        Assert.Equal(5m, row.GetProperty("dailyBudgetUsd").GetDecimal());
        using var badDate = await platformAdmin.GetAsync("/v1/usage/tenants?date=1900-01-01");
        Assert.Equal(HttpStatusCode.BadRequest, badDate.StatusCode);
    }

    private async Task<(string TenantId, string Key)> PricedTenantAsync()
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        using var client = platform.AppHost.Client("model", key);
        (await client.PutAsJsonAsync("/v1/catalog/priced", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "simulator", model = "platform-simulator-1", inputPricePerMillion = 100, outputPricePerMillion = 100 } },
        })).EnsureSuccessStatusCode();
        return (tenantId, key);
    }

    private async Task<string> KeyIdAsync(string key)
    {
        using var orchestrator = platform.AppHost.Client("orchestrator", key);
        using var me = JsonDocument.Parse(await orchestrator.GetStringAsync("/v1/me"));
        return me.RootElement.GetProperty("keyId").GetString()!;
    }

    /// <summary>
    /// Waits for the batched ledger to hold <paramref name="expectedRequests"/> requests and for every replica to have
    /// written all it recorded, so that one request too many would show, then sums them.
    /// </summary>
    private async Task<(int Requests, int Succeeded, decimal Cost, long OutputTokens)> UsageAsync(string tenantId, int expectedRequests)
    {
        var key = await platform.IssueKeyAsync(tenantId, "admin");
        using var client = platform.AppHost.Client("model", key);
        async Task<List<JsonElement>> RowsAsync() =>
            [.. (await client.GetFromJsonAsync<JsonElement>("/v1/usage")).GetProperty("data").EnumerateArray()];
        static int Requests(List<JsonElement> rows) => rows.Sum(r => r.GetProperty("requests").GetInt32());

        await WaitUntilAsync($"the ledger to hold {expectedRequests} requests", TimeSpan.FromSeconds(10), RowsAsync,
            rows => Requests(rows) >= expectedRequests, rows => $"{Requests(rows)} requests");
        await UsageLedgers.WaitUntilWrittenAsync(platform.AppHost);
        var rows = await RowsAsync();
        var requests = Requests(rows);
        Assert.Equal(expectedRequests, requests);
        return (requests, requests - rows.Sum(r => r.GetProperty("errors").GetInt32()), rows.Sum(r => r.GetProperty("costUsd").GetDecimal()),
            rows.Sum(r => r.GetProperty("outputTokens").GetInt64()));
    }
}
