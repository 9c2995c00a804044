using System.Text.Json;

namespace Platform.Tests.CrossService;

/// <summary>
/// Many clients and gateways send <c>Content-Type: application/json</c> on every call. A request without a body is not
/// malformed JSON: each endpoint judges it by its own rules, whether the body is absent or an empty chunked one.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class EmptyBodyTests(PlatformFixture platform)
{
    public static TheoryData<string, string, string, int> BodylessCalls => new()
    {
        { "model", "GET", "/v1/models", 200 },
        { "tool", "GET", "/v1/tools", 200 },
        { "planning", "GET", "/v1/plans", 200 },
        { "orchestrator", "GET", "/v1/me", 200 },
        { "dashboard", "GET", "/api/status", 200 },
        { "orchestrator", "POST", $"/v1/runs/{Guid.NewGuid()}/cancel", 404 },
        { "tool", "POST", $"/v1/approvals/{Guid.NewGuid()}/deny", 404 },
    };

    [Theory]
    [MemberData(nameof(BodylessCalls))]
    public async Task ARequestWithoutABodyIsJudgedByItsEndpointNotItsContentType(string service, string method, string path, int expected)
    {
        var withoutBody = await SendRawAsync(service, method, path, chunkedEmptyBody: false);
        var emptyChunked = await SendRawAsync(service, method, path, chunkedEmptyBody: true);

        Assert.True(withoutBody.Status == expected, $"{withoutBody.Status}: {withoutBody.Body}");
        Assert.True(emptyChunked.Status == expected, $"{emptyChunked.Status}: {emptyChunked.Body}");
    }

    [Fact]
    public async Task AnEndpointThatNeedsABodySaysSoWhenItIsMissing()
    {
        var response = await SendRawAsync("planning", "POST", "/v1/plans", chunkedEmptyBody: true);

        Assert.Equal(400, response.Status);
        Assert.DoesNotContain("not valid JSON", response.Body, StringComparison.Ordinal);
        using var problem = JsonDocument.Parse(response.Body);
        Assert.Contains("body", problem.RootElement.GetProperty("detail").GetString()!, StringComparison.OrdinalIgnoreCase);
    }

    private Task<(int Status, string Body)> SendRawAsync(string service, string method, string path, bool chunkedEmptyBody) =>
        RawHttp.SendAsync(platform.AppHost.Url(service), platform.AppHost.AdminApiKey, method, path, ["Content-Type: application/json", "Accept: application/json"],
            chunkedEmptyBody ? "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" : "\r\n");
}
