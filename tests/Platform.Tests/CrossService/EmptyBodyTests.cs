using System.Globalization;
using System.Net.Sockets;
using System.Text;
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

    /// <summary>
    /// Written by hand on a socket: HttpClient always adds <c>Content-Length: 0</c> to an empty body, which is not what
    /// a client that sends the header alone puts on the wire.
    /// </summary>
    private async Task<(int Status, string Body)> SendRawAsync(string service, string method, string path, bool chunkedEmptyBody)
    {
        var url = platform.AppHost.Url(service);
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        await using var stream = tcp.GetStream();
        var request = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"{method} {path} HTTP/1.1\r\n")
            .Append(CultureInfo.InvariantCulture, $"Host: {url.Authority}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Authorization: Bearer {platform.AppHost.AdminApiKey}\r\n")
            .Append("Content-Type: application/json\r\nAccept: application/json\r\nConnection: close\r\n")
            .Append(chunkedEmptyBody ? "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" : "\r\n")
            .ToString();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var answer = await reader.ReadToEndAsync();
        var status = int.Parse(answer.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        var body = answer[(answer.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..];
        return (status, Dechunk(body));
    }

    private static string Dechunk(string body)
    {
        var text = new StringBuilder();
        var rest = body;
        while (rest.IndexOf("\r\n", StringComparison.Ordinal) is var end and > 0
            && int.TryParse(rest[..end], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var size))
        {
            if (size == 0)
            {
                return text.ToString();
            }

            text.Append(rest.AsSpan(end + 2, size));
            rest = rest[(end + 2 + size + 2)..];
        }

        return text.Length > 0 ? text.ToString() : body;
    }
}
