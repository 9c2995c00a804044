using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Platform.Tests.CrossService;

/// <summary>Input no service can store or read unambiguously is refused in one place, before any endpoint sees it.</summary>
[Collection(PlatformCollection.Name)]
public sealed class InputGuardTests(PlatformFixture platform)
{
    private const string ValidPlan = """{"goal":"g","steps":[{"id":"a","title":"A","kind":"model"}]}""";

    [Theory]
    [InlineData("""{"goal":"nul \u0000 inside","steps":[{"id":"a","title":"A","kind":"tool"}]}""", "goal")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"lone \ud800 surrogate","kind":"tool"}]}""", "steps[0].title")]
    [InlineData("""{"goal":"g","goal":"again","steps":[{"id":"a","title":"A","kind":"tool"}]}""", "goal")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool","id":"b"}]}""", "steps[0].id")]
    public async Task UnstorableOrAmbiguousJsonIsA400NamingTheField(string body, string field)
    {
        using var planning = platform.Admin("planning");

        using var response = await planning.PostAsync("/v1/plans", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(field, problem.RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public async Task JsonNestedBeyondSixtyFourLevelsIsA400()
    {
        using var planning = platform.Admin("planning");
        var deep = string.Concat(Enumerable.Repeat("{\"a\":", 10_000)) + "1" + new string('}', 10_000);

        using var response = await planning.PostAsync("/v1/plans", new StringContent(deep, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task NulInAQueryOrPathIsA400()
    {
        using var orchestrator = platform.Admin("orchestrator");

        using var inPath = await orchestrator.GetAsync("/v1/tenants/ab%00cd");
        using var inQuery = await orchestrator.DeleteAsync("/v1/tenants/some-tenant?retentionDays=%00");

        Assert.Equal(HttpStatusCode.BadRequest, inPath.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, inQuery.StatusCode);
        Assert.Contains("NUL", await inQuery.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MultipartBodiesAre415AndOversizedOnes413()
    {
        using var planning = platform.Admin("planning");
        using var multipart = new MultipartFormDataContent { { new StringContent(ValidPlan), "plan" } };
        using var tooBig = new StringContent("{\"goal\":\"" + new string('x', 2 * 1024 * 1024) + "\"}", Encoding.UTF8, "application/json");

        // Expect: 100-continue, as curl sends it for large bodies: the 413 comes before the body, on a loaded machine too.
        using var patient = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(30) }) { BaseAddress = planning.BaseAddress };
        patient.DefaultRequestHeaders.Authorization = planning.DefaultRequestHeaders.Authorization;
        patient.DefaultRequestHeaders.ExpectContinue = true;

        using var multipartResponse = await planning.PostAsync("/v1/plans", multipart);
        using var tooBigResponse = await patient.PostAsync("/v1/plans", tooBig);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, multipartResponse.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBigResponse.StatusCode);
        Assert.Equal("application/problem+json", tooBigResponse.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheDashboardSignInRefusesMultipartHugeAndNulForms()
    {
        // Expect: 100-continue lets the server refuse before the body is sent, as a well-behaved client would.
        using var dashboard = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromSeconds(30) })
        {
            BaseAddress = platform.AppHost.Url("dashboard"),
        };
        dashboard.DefaultRequestHeaders.ExpectContinue = true;
        using var multipart = new MultipartFormDataContent { { new StringContent(new string('k', 20 * 1024 * 1024)), "apiKey" } };
        using var huge = new FormUrlEncodedContent([new("apiKey", new string('k', 20 * 1024 * 1024))]);
        using var nul = new FormUrlEncodedContent([new("apiKey", "plt_\0key")]);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await dashboard.PostAsync("/login", multipart)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await dashboard.PostAsync("/login", huge)).StatusCode);
        var nulResponse = await dashboard.PostAsync("/login", nul);
        Assert.True(nulResponse.StatusCode == HttpStatusCode.BadRequest, await nulResponse.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TheGatewayAnswersInOpenAisShapeAndEverythingElseInProblemJson()
    {
        using var anonymousModel = platform.AppHost.Client("model");
        using var anonymousCatalog = await anonymousModel.GetAsync("/v1/catalog");
        using var anonymousModels = await anonymousModel.GetAsync("/v1/models");
        using var model = platform.Admin("model");
        using var duplicate = await model.PostAsync("/v1/embeddings",
            new StringContent("""{"model":"simulator","input":"a","input":"b"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymousCatalog.StatusCode);
        Assert.Equal("application/problem+json", anonymousCatalog.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousModels.StatusCode);
        Assert.Equal("invalid_api_key", await OpenAiCodeAsync(anonymousModels));
        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Equal("invalid_request_error", JsonDocument.Parse(await duplicate.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task AValidBodyStillPassesTheGuardUnchanged()
    {
        using var planning = platform.Admin("planning");
        using var content = new StringContent(ValidPlan, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await planning.PostAsync("/v1/plans", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static async Task<string?> OpenAiCodeAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("error").GetProperty("code").GetString();
    }
}
