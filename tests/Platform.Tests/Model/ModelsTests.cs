using System.Text.Json;

namespace Platform.Tests.Model;

[Collection(PlatformCollection.Name)]
public sealed class ModelsTests(PlatformFixture platform)
{
    [Fact]
    public async Task TheCatalogListsTheSimulatorInOpenAiShape()
    {
        var (_, key) = await platform.NewTenantAsync("models");
        using var model = platform.AppHost.Client("model", key);

        using var list = JsonDocument.Parse(await model.GetStringAsync("/v1/models"));

        Assert.Equal("list", list.RootElement.GetProperty("object").GetString());
        var simulator = list.RootElement.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == "simulator");
        Assert.Equal("model", simulator.GetProperty("object").GetString());
        Assert.Equal("simulator", simulator.GetProperty("owned_by").GetString());
        Assert.True(simulator.GetProperty("created").GetInt64() > 0);
    }
}
