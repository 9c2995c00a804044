using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using NJsonSchema;
using Platform.TestSupport;

namespace Platform.Tests.CrossService;

/// <summary>The manifest Aspire's own publisher writes from our app model, as azd and aspirate read it.</summary>
[Collection(AppHostProcessCollection.Name)]
public sealed class ManifestTests
{
    [Fact]
    public async Task PublishedManifestIsSchemaValidAndWrittenWithoutStderr()
    {
        var output = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}", "nested", "aspire-manifest.json");
        var (exitCode, _, stderr) = await AppHostProcess.PublishAsync("--publisher", "manifest", "--output-path", output);

        Assert.Equal(0, exitCode);
        Assert.Equal("", stderr);
        var errors = (await AspireSchemaAsync()).Validate(await File.ReadAllTextAsync(output));
        Assert.Empty(errors.Select(e => $"{e.Path}: {e.Kind}"));
    }

    [Fact]
    public async Task SchemaCheckRejectsAProjectWithoutAPath()
    {
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "aspire-manifest.json")))!;
        manifest["resources"]!["orchestrator"]!.AsObject().Remove("path");

        var errors = (await AspireSchemaAsync()).Validate(manifest.ToJsonString());

        Assert.NotEmpty(errors);
    }

    [Fact]
    public async Task CommittedManifestEqualsWhatTheAppHostPublishes()
    {
        // Published beside the committed one, so relative project paths compare equal.
        var output = Path.Combine(Repository.Root, $".manifest-check-{Guid.NewGuid():N}.json");
        try
        {
            var (exitCode, _, stderr) = await AppHostProcess.PublishAsync("--publisher", "manifest", "--output-path", output);

            Assert.True(exitCode == 0, stderr);
            Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "aspire-manifest.json")), await File.ReadAllTextAsync(output));
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task ManifestHoldsAspiresOwnPostgresAndRedisAndOnlyTypesAzdReads()
    {
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Repository.Root, "aspire-manifest.json")));
        var resources = manifest.RootElement.GetProperty("resources");

        Assert.StartsWith("docker.io/library/postgres:", resources.GetProperty("postgres").GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("docker.io/library/redis:", resources.GetProperty("cache").GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.Equal("{postgres.connectionString};Database=modeldb", resources.GetProperty("modeldb").GetProperty("connectionString").GetString());
        Assert.All(resources.EnumerateObject(), r => Assert.Contains(r.Value.GetProperty("type").GetString(), new[] { "container.v0", "project.v0", "value.v0", "parameter.v0" }));
    }

    [Fact]
    public async Task AspireCliFormWritesIntoTheOutputFolder()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"manifest-{Guid.NewGuid():N}");
        var (exitCode, _, stderr) = await AppHostProcess.PublishAsync("--operation", "publish", "--step", "publish-manifest", "--output-path", folder);

        Assert.True(exitCode == 0, stderr);
        Assert.Equal("", stderr);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "aspire-manifest.json")));
        var projectPaths = manifest.RootElement.GetProperty("resources").EnumerateObject()
            .Where(r => r.Value.GetProperty("type").GetString() == "project.v0")
            .Select(r => r.Value.GetProperty("path").GetString()!)
            .ToList();
        Assert.Equal(5, projectPaths.Count);
        Assert.All(projectPaths, path => Assert.True(File.Exists(Path.Combine(folder, path)), $"{path} is not relative to the manifest's folder"));
    }

    [Fact]
    public async Task AzdRecognisesTheAppHost()
    {
        using var msbuild = Process.Start(new ProcessStartInfo("dotnet",
            ["msbuild", Path.Combine(Repository.AppHostDirectory, "AppHost.csproj"), "--getProperty:IsAspireHost", "--getItem:ProjectCapability"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await msbuild.StandardOutput.ReadToEndAsync();
        await msbuild.WaitForExitAsync();

        using var answer = JsonDocument.Parse(output);
        Assert.Equal("true", answer.RootElement.GetProperty("Properties").GetProperty("IsAspireHost").GetString());
        Assert.Contains(answer.RootElement.GetProperty("Items").GetProperty("ProjectCapability").EnumerateArray(),
            item => item.GetProperty("Identity").GetString() == "Aspire");
    }

    /// <summary>
    /// The schema with two draft-07 forms NJsonSchema 10 does not read rewritten to their equivalents: boolean
    /// subschemas under "properties" (<c>"build": false</c>) and <c>const</c> (as a one-value <c>enum</c>).
    /// </summary>
    private static async Task<JsonSchema> AspireSchemaAsync()
    {
        var document = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Schemas", "aspire-8.0.json")))!;
        var pending = new Stack<JsonNode>([document]);
        while (pending.TryPop(out var node))
        {
            if (node is JsonObject obj)
            {
                if (obj["const"] is { } constant)
                {
                    obj.Remove("const");
                    obj["enum"] = new JsonArray(constant.DeepClone());
                }

                if (obj["properties"] is JsonObject properties)
                {
                    foreach (var name in properties.Select(p => p.Key).ToList())
                    {
                        if (properties[name] is JsonValue value && value.TryGetValue<bool>(out var allowed))
                        {
                            properties[name] = allowed ? new JsonObject() : new JsonObject { ["not"] = new JsonObject() };
                        }
                    }
                }

                foreach (var child in obj.Select(p => p.Value).OfType<JsonNode>())
                {
                    pending.Push(child);
                }
            }
            else if (node is JsonArray array)
            {
                foreach (var child in array.OfType<JsonNode>())
                {
                    pending.Push(child);
                }
            }
        }

        return await JsonSchema.FromJsonAsync(document.ToJsonString());
    }
}
