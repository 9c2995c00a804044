using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Platform.Tests.Model;

/// <summary>
/// A chat request with an <c>Idempotency-Key</c> is made and paid for once, on any replica: a repeat gets the stored
/// answer, plain or streamed, and a failed call frees its key. Every answer tells its cost as the ledger records it.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class IdempotencyTests(PlatformFixture platform) : IAsyncLifetime
{
    private const decimal InputPricePerMillion = 3m;
    private const decimal OutputPricePerMillion = 15m;
    private FakeUpstream _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task ARepeatedKeyedRequestMakesOneUpstreamCallAndOneLedgerRowAndReplaysTheSameAnswer()
    {
        var model = Model("ok");
        using var tenant = await TenantAsync(model);
        var key = NewKey();

        using var first = await PostAsync(tenant.Client, Body(), key);
        using var repeat = await PostAsync(tenant.Client, Body(), key);
        var ledger = await LedgerAsync(tenant.Id, expectedRows: 1);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(await first.Content.ReadAsByteArrayAsync(), await repeat.Content.ReadAsByteArrayAsync());
        Assert.Contains($"Hello from {model}", await repeat.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal("true", repeat.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, _upstream.Calls(model));
        var row = Assert.Single(ledger);
        Assert.Equal(key, row.IdempotencyKey);
        Assert.Equal(row.CostUsd, Cost(first));
        Assert.Equal(row.CostUsd, Cost(repeat));
        Assert.Equal((7 * InputPricePerMillion + 4 * OutputPricePerMillion) / 1_000_000m, row.CostUsd);
    }

    [Fact]
    public async Task ARepeatIsReplayedAsAStreamOrAsJsonAsTheRepeatAsks()
    {
        var model = Model("ok");
        using var tenant = await TenantAsync(model);
        var (plainFirst, streamedFirst) = (NewKey(), NewKey());

        using var plain = await PostAsync(tenant.Client, Body(), plainFirst);
        using var plainAsStream = await PostAsync(tenant.Client, Body(stream: true), plainFirst);
        using var streamed = await PostAsync(tenant.Client, Body(stream: true), streamedFirst);
        using var streamedAsPlain = await PostAsync(tenant.Client, Body(), streamedFirst);
        var replayedStream = Stream.Parse(await plainAsStream.Content.ReadAsStringAsync());
        var liveStream = Stream.Parse(await streamed.Content.ReadAsStringAsync());
        using var plainJson = JsonDocument.Parse(await plain.Content.ReadAsStringAsync());
        using var streamedAsPlainJson = JsonDocument.Parse(await streamedAsPlain.Content.ReadAsStringAsync());

        Assert.Equal(2, _upstream.Calls(model));
        Assert.Equal("true", plainAsStream.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal("text/event-stream", plainAsStream.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Content(plainJson), replayedStream.Content);
        Assert.Equal(plainJson.RootElement.GetProperty("id").GetString(), replayedStream.Id);
        Assert.Equal(Cost(plain), replayedStream.CostUsd);
        Assert.Equal("true", streamedAsPlain.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(liveStream.Content, Content(streamedAsPlainJson));
        Assert.Equal(liveStream.Id, streamedAsPlainJson.RootElement.GetProperty("id").GetString());
        Assert.Equal(liveStream.CostUsd, Cost(streamedAsPlain));
    }

    [Fact]
    public async Task TheSameKeyWithAnotherRequestIsRefusedWith422()
    {
        var model = Model("ok");
        using var tenant = await TenantAsync(model);
        var key = NewKey();

        using var first = await PostAsync(tenant.Client, Body(), key);
        using var other = await PostAsync(tenant.Client, Body(content: "something else"), key);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var error = await OpenAiErrorAsync(other, HttpStatusCode.UnprocessableEntity);
        Assert.Equal("idempotency_key_reused", error.GetProperty("code").GetString());
        Assert.Equal("Idempotency-Key", error.GetProperty("param").GetString());
        Assert.Equal(1, _upstream.Calls(model));
    }

    [Fact]
    public async Task ADuplicateWhileTheFirstIsInFlightIsRefusedWith409AndRetryAfter()
    {
        var model = Model("slow");
        using var tenant = await TenantAsync(model);
        var key = NewKey();

        var first = PostAsync(tenant.Client, Body(), key);
        await WaitUntilAsync("the first call to reach the upstream", TimeSpan.FromSeconds(10), () => _upstream.Calls(model) == 1);
        using var duplicate = await PostAsync(tenant.Client, Body(), key);
        using var firstResponse = await first;
        using var later = await PostAsync(tenant.Client, Body(), key);

        var error = await OpenAiErrorAsync(duplicate, HttpStatusCode.Conflict);
        Assert.Equal("idempotency_key_in_use", error.GetProperty("code").GetString());
        Assert.Equal(TimeSpan.FromSeconds(1), duplicate.Headers.RetryAfter?.Delta);
        Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
        Assert.Equal("true", later.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, _upstream.Calls(model));
        Assert.Single(await LedgerAsync(tenant.Id, expectedRows: 1));
    }

    [Fact]
    public async Task AnotherTenantWithTheSameKeyGetsItsOwnCall()
    {
        var model = Model("ok");
        using var alice = await TenantAsync(model);
        using var bob = await TenantAsync(model);
        var key = NewKey();

        using var alices = await PostAsync(alice.Client, Body(), key);
        using var bobs = await PostAsync(bob.Client, Body(), key);

        Assert.Equal(HttpStatusCode.OK, bobs.StatusCode);
        Assert.False(bobs.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, _upstream.Calls(model));
    }

    [Fact]
    public async Task AFailedFirstCallReleasesItsKey()
    {
        var model = Model("missing");
        using var tenant = await TenantAsync(model);
        var key = NewKey();

        using var first = await PostAsync(tenant.Client, Body(), key);
        using var retry = await PostAsync(tenant.Client, Body(), key);

        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, retry.StatusCode);
        Assert.False(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(2, _upstream.Calls(model));
        Assert.All(await LedgerAsync(tenant.Id, expectedRows: 2), row => Assert.Equal(key, row.IdempotencyKey));
    }

    [Fact]
    public async Task AFirstCallWhoseCallerLeftIsFinishedAndItsRepeatReplaysItUnpaid()
    {
        var model = Model("slow");
        using var tenant = await TenantAsync(model);
        var key = NewKey();

        using (var cancel = new CancellationTokenSource())
        {
            var first = PostAsync(tenant.Client, Body(), key, cancel.Token);
            await WaitUntilAsync("the first call to reach the upstream", TimeSpan.FromSeconds(10), () => _upstream.Calls(model) == 1);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        }

        // Until the upstream answers, the key is in use; then the answer is stored under it.
        var retry = await WaitUntilAsync("the abandoned first call's answer to be stored", TimeSpan.FromSeconds(10), async () =>
        {
            var response = await PostAsync(tenant.Client, Body(), key);
            if (response.StatusCode == HttpStatusCode.Conflict)
            {
                response.Dispose();
            }

            return response;
        }, response => response.StatusCode != HttpStatusCode.Conflict, response => $"{(int)response.StatusCode}");

        using (retry)
        {
            Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
            Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
            Assert.Equal(1, _upstream.Calls(model));
        }

        Assert.Single(await LedgerAsync(tenant.Id, expectedRows: 1));
    }

    [Theory]
    [InlineData("")]
    [InlineData("tab\tinside")]
    [InlineData("256 characters")]
    public async Task AnInvalidKeyIsA400NamingTheHeader(string key)
    {
        var model = Model("ok");
        using var tenant = await TenantAsync(model);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(Body()) };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key == "256 characters" ? new string('k', 256) : key);

        using var response = await tenant.Client.SendAsync(request);

        var error = await OpenAiErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("Idempotency-Key", error.GetProperty("param").GetString());
        Assert.Contains("Idempotency-Key", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, _upstream.Calls(model));
    }

    [Fact]
    public async Task APlainAnswerCarriesItsCostInAHeaderAndAStreamInItsUsageChunk()
    {
        var model = Model("ok");
        using var tenant = await TenantAsync(model);

        using var plain = await PostAsync(tenant.Client, Body(), key: null);
        using var streamed = await PostAsync(tenant.Client, Body(stream: true), key: null);
        var stream = Stream.Parse(await streamed.Content.ReadAsStringAsync());
        var ledger = await LedgerAsync(tenant.Id, expectedRows: 2);

        // Both calls use 7 input and 4 output tokens: each row holds the cost both answers report.
        Assert.Equal(2, ledger.Count);
        Assert.All(ledger, row => Assert.Null(row.IdempotencyKey));
        Assert.All(ledger, row => Assert.Equal(row.CostUsd, Cost(plain)));
        Assert.All(ledger, row => Assert.Equal(row.CostUsd, stream.CostUsd));
        Assert.False(streamed.Headers.Contains("x-platform-cost-usd"));
    }

    private static string Model(string behaviour) => $"{behaviour}-{Guid.NewGuid():N}"[..24];

    private static string NewKey() => $"run-{Guid.NewGuid()}/step-1/attempt";

    /// <summary>A request to the tenant's alias <c>priced</c>; a stream asks for usage.</summary>
    private static object Body(bool stream = false, string content = "hi") => stream
        ? new { model = "priced", messages = new[] { new { role = "user", content } }, stream, stream_options = new { include_usage = true } }
        : new { model = "priced", messages = new[] { new { role = "user", content } } };

    private static Task<HttpResponseMessage> PostAsync(HttpClient client, object body, string? key, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return client.SendAsync(request, cancellationToken);
    }

    private static decimal Cost(HttpResponseMessage response) =>
        decimal.Parse(response.Headers.GetValues("x-platform-cost-usd").Single(), NumberStyles.Number, CultureInfo.InvariantCulture);

    private static string? Content(JsonDocument completion) =>
        completion.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString();

    private static async Task<JsonElement> OpenAiErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("error").Clone();
    }

    /// <summary>A new tenant whose alias <c>priced</c> is the fake upstream's <paramref name="model"/> at a known price.</summary>
    private async Task<Tenant> TenantAsync(string model)
    {
        var (tenantId, key) = await platform.NewTenantAsync("admin");
        await platform.AppHost.GrantPrivateAsync(key, _upstream.BaseUrl);
        var client = platform.AppHost.Client("model", key);
        (await client.PutAsJsonAsync("/v1/catalog/priced", new
        {
            strategy = "ordered",
            deployments = new[] { new { provider = "openai", baseUrl = _upstream.BaseUrl, model, inputPricePerMillion = InputPricePerMillion, outputPricePerMillion = OutputPricePerMillion } },
        })).EnsureSuccessStatusCode();
        return new Tenant(tenantId, client);
    }

    /// <summary>
    /// The tenant's ledger rows in the order they were written, once <paramref name="expectedRows"/> are there and every
    /// replica has written what it recorded before, so a row that should not exist would be there too.
    /// </summary>
    private async Task<List<LedgerRow>> LedgerAsync(string tenantId, int expectedRows)
    {
        await WaitUntilAsync($"{expectedRows} ledger rows of the tenant", TimeSpan.FromSeconds(10), () => ReadLedgerAsync(tenantId),
            rows => rows.Count >= expectedRows, rows => $"{rows.Count} rows");
        await UsageLedgers.WaitUntilWrittenAsync(platform.AppHost);
        return await ReadLedgerAsync(tenantId);
    }

    private async Task<List<LedgerRow>> ReadLedgerAsync(string tenantId)
    {
        await using var connection = new NpgsqlConnection(platform.AppHost.ConnectionString("modeldb"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT idempotency_key, cost_usd FROM usage_ledger WHERE tenant_id = $1 ORDER BY id", connection);
        command.Parameters.Add(new() { Value = tenantId });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<LedgerRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new LedgerRow(reader.IsDBNull(0) ? null : reader.GetString(0), reader.GetDecimal(1)));
        }

        return rows;
    }

    private sealed record Tenant(string Id, HttpClient Client) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    private sealed record LedgerRow(string? IdempotencyKey, decimal CostUsd);

    /// <summary>What a server-sent stream of chunks said: the completion's id, its text, and the usage chunk's cost.</summary>
    private sealed record Stream(string? Id, string Content, decimal? CostUsd)
    {
        public static Stream Parse(string events)
        {
            Assert.EndsWith("data: [DONE]\n\n", events, StringComparison.Ordinal);
            var (id, text, cost) = ((string?)null, new StringBuilder(), (decimal?)null);
            foreach (var line in events.Split('\n').Where(l => l.StartsWith("data: {", StringComparison.Ordinal)))
            {
                using var chunk = JsonDocument.Parse(line[6..]);
                id ??= chunk.RootElement.GetProperty("id").GetString();
                foreach (var choice in chunk.RootElement.GetProperty("choices").EnumerateArray())
                {
                    if (choice.GetProperty("delta").TryGetProperty("content", out var content))
                    {
                        text.Append(content.GetString());
                    }
                }

                if (chunk.RootElement.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    cost = usage.GetProperty("cost_usd").GetDecimal();
                }
            }

            return new Stream(id, text.ToString(), cost);
        }
    }
}
