using System.Net;
using System.Text;

namespace Platform.Tests.CrossService;

[Collection(PlatformCollection.Name)]
public sealed class BadInputTests(PlatformFixture platform)
{
    [Theory]
    [InlineData("orchestrator", "POST", "/v1/tenants", "{not json")]
    [InlineData("orchestrator", "POST", "/v1/tenants", """{"id": 42, "name": ["x"]}""")]
    [InlineData("orchestrator", "POST", "/v1/tenants/system/keys", """{"name":"k","scopes":"admin"}""")]
    [InlineData("planning", "POST", "/v1/plans", "[1,2,3]")]
    [InlineData("planning", "POST", "/v1/plans", """{"goal":"g","steps":[{"id":"a","dependsOn":"b"}]}""")]
    [InlineData("tool", "PUT", "/v1/tools/http.x", "{\"description\":")]
    [InlineData("planning", "POST", "/v1/plans", "")]
    public async Task MalformedBodiesAre400ProblemJson(string service, string method, string path, string body)
    {
        using var client = platform.Admin(service);

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AHugeBodyIsRejectedWithoutA500()
    {
        using var client = platform.Admin("planning");
        var huge = "{\"goal\":\"" + new string('x', 40 * 1024 * 1024) + "\",\"steps\":[]}";

        // Expect: 100-continue lets the server refuse before the body is sent, as a well-behaved client would.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/plans") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);

        Assert.True(response.StatusCode is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.BadRequest, response.StatusCode.ToString());
    }

    [Fact]
    public async Task AWrongContentTypeIs415()
    {
        using var client = platform.Admin("planning");

        using var response = await client.PostAsync("/v1/plans", new StringContent("goal=g", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }
}
