using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Tests;

[Collection(PlatformCollection.Name)]
public sealed class PlanningTests(PlatformFixture platform)
{
    public static readonly object ValidPlan = new
    {
        goal = "Summarise the weather",
        steps = new object[]
        {
            new { id = "fetch", title = "Fetch the forecast", kind = "tool" },
            new { id = "history", title = "Fetch last week", kind = "tool" },
            new { id = "summarise", title = "Summarise both", kind = "model", dependsOn = new[] { "fetch", "history" } },
            new { id = "approve", title = "Approve sending", kind = "approval", dependsOn = new[] { "summarise" } },
        },
    };

    [Fact]
    public async Task AValidPlanIsStoredWithParallelLayers()
    {
        var (_, key) = await platform.NewTenantAsync("plans");
        using var planning = platform.AppHost.Client("planning", key);

        using var created = await planning.PostAsJsonAsync("/v1/plans", ValidPlan);

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var plan = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
        Assert.Equal("""[["fetch","history"],["summarise"],["approve"]]""", plan.RootElement.GetProperty("layers").GetRawText());
        using var fetched = JsonDocument.Parse(await planning.GetStringAsync(created.Headers.Location));
        Assert.Equal(plan.RootElement.GetProperty("id").GetString(), fetched.RootElement.GetProperty("id").GetString());
        using var listed = JsonDocument.Parse(await planning.GetStringAsync("/v1/plans"));
        Assert.Equal(1, listed.RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool","dependsOn":["b"]},{"id":"b","title":"B","kind":"tool","dependsOn":["a"]}]}""", "steps")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool","dependsOn":["ghost"]}]}""", "steps[0].dependsOn")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"tool"},{"id":"a","title":"B","kind":"tool"}]}""", "steps[1].id")]
    [InlineData("""{"goal":"g","steps":[{"id":"a","title":"A","kind":"dance"}]}""", "steps[0].kind")]
    [InlineData("""{"goal":"g","steps":[]}""", "steps")]
    [InlineData("""{"steps":[{"id":"a","title":"A","kind":"tool"}]}""", "goal")]
    public async Task AnInvalidPlanIsA400NamingTheField(string body, string field)
    {
        using var planning = platform.Admin("planning");

        using var response = await planning.PostAsync("/v1/plans", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(problem.RootElement.GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUnknownPlanIsNotFound()
    {
        using var planning = platform.Admin("planning");

        Assert.Equal(HttpStatusCode.NotFound, (await planning.GetAsync($"/v1/plans/{Guid.NewGuid()}")).StatusCode);
    }
}
