using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.TestSupport;

namespace Platform.Tests.Tool;

/// <summary>
/// MCP against a real server nobody here wrote: <c>@modelcontextprotocol/server-everything</c> from npm, over stdio,
/// through the official C# SDK inside the tool service. The tests install it into tests/mcp when it is missing.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class McpTests(PlatformFixture platform)
{
    internal static readonly Lazy<string> ServerCommand = new(InstallServerEverything);

    [Fact]
    public async Task AServersToolsAreDiscoveredIntoTheRegistryAndInvoked()
    {
        using var admin = await RegisterAsync("everything");

        var echo = await InvocationTests.InvokeAsync(admin, "mcp.everything.echo", new { message = "hello" });
        var sum = await InvocationTests.InvokeAsync(admin, "mcp.everything.get-sum", new { a = 2, b = 3 });

        Assert.Equal("succeeded", echo.GetProperty("status").GetString());
        Assert.Contains("hello", echo.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("5", sum.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        using var tool = JsonDocument.Parse(await admin.GetStringAsync("/v1/tools/mcp.everything.echo"));
        Assert.Equal("read_only", tool.RootElement.GetProperty("sideEffect").GetString());
    }

    [Fact]
    public async Task AnMcpToolsArgumentsAreValidatedAgainstItsSchema()
    {
        using var admin = await RegisterAsync("everything-schema");

        using var response = await admin.PostAsJsonAsync("/v1/tools/mcp.everything-schema.get-sum/invocations",
            new { idempotencyKey = Guid.NewGuid().ToString(), arguments = new { a = "two" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("/a", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADeadServerIsReconnectedOnTheNextCall()
    {
        using var admin = await RegisterAsync("everything-restart");
        await InvocationTests.InvokeAsync(admin, "mcp.everything-restart.echo", new { message = "before" });
        var servers = ServerProcesses();
        Assert.NotEmpty(servers);

        foreach (var pid in servers)
        {
            Processes.SendSignal(pid, 9);
        }

        // The call after must find the server dead, not race its dying.
        await WaitUntilAsync("the killed MCP server processes to be gone", TimeSpan.FromSeconds(10), () => !servers.Any(Processes.IsAlive));
        var after = await InvocationTests.InvokeAsync(admin, "mcp.everything-restart.echo", new { message = "after" });

        Assert.Equal("succeeded", after.GetProperty("status").GetString());
        using var listed = JsonDocument.Parse(await admin.GetStringAsync("/v1/mcp-servers"));
        var state = listed.RootElement.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "everything-restart").GetProperty("state");
        Assert.Equal("ready", state.GetProperty("status").GetString());
    }

    [Fact]
    public async Task AStdioServerStartsWithOnlyAMinimalPathAndTheVariablesItsRegistrationNames()
    {
        var token = $"token-{Guid.NewGuid():N}";
        using var admin = platform.Admin("tool");
        (await admin.PutAsJsonAsync("/v1/tool-settings/secrets/mcp_env_token", new { value = token })).EnsureSuccessStatusCode();
        using var registered = await RegisterAsync("everything-env", new Dictionary<string, string>
        {
            ["GREETING"] = "hello from the registration", ["API_TOKEN"] = "Bearer {{secret:mcp_env_token}}",
        });

        var invocation = await InvocationTests.InvokeAsync(registered, "mcp.everything-env.get-env", new { });

        Assert.Equal("succeeded", invocation.GetProperty("status").GetString());
        var environment = JsonSerializer.Deserialize<Dictionary<string, string>>(invocation.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString()!)!;
        Assert.Equal(["API_TOKEN", "GREETING", "PATH"], environment.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("/usr/local/bin:/usr/bin:/bin", environment["PATH"]);
        Assert.Equal("hello from the registration", environment["GREETING"]);
        Assert.Equal($"Bearer {token}", environment["API_TOKEN"]);
        Assert.DoesNotContain(environment.Keys, name => name.StartsWith("ConnectionStrings__", StringComparison.Ordinal) || name.StartsWith("Secrets__", StringComparison.Ordinal));
        using var listed = JsonDocument.Parse(await admin.GetStringAsync("/v1/mcp-servers"));
        var server = listed.RootElement.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "everything-env");
        Assert.Equal(["API_TOKEN", "GREETING"], server.GetProperty("environment").EnumerateArray().Select(v => v.GetString()));
        Assert.DoesNotContain(token, listed.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("stdio", "1BAD", "is not a variable name")]
    [InlineData("stdio", "BAD=NAME", "is not a variable name")]
    [InlineData("http", "GOOD", "Only a stdio server")]
    public async Task ARegistrationsEnvironmentIsValidated(string transport, string variable, string message)
    {
        using var admin = platform.Admin("tool");

        using var response = await admin.PutAsJsonAsync("/v1/mcp-servers/bad-env", new
        {
            transport, command = transport == "stdio" ? "/bin/true" : null, url = transport == "http" ? "https://mcp.example.com/mcp" : null,
            environment = new Dictionary<string, string> { [variable] = "x" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains(message, problem.RootElement.GetProperty("errors").GetProperty("environment")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OnlyPlatformAdminsRegisterServers()
    {
        var (_, key) = await platform.NewTenantAsync("admin");
        using var tenantAdmin = platform.AppHost.Client("tool", key);

        using var response = await tenantAdmin.PutAsJsonAsync("/v1/mcp-servers/mine", new { transport = "stdio", command = "/bin/sh", args = new[] { "-c", "id" } });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private async Task<HttpClient> RegisterAsync(string name, Dictionary<string, string>? environment = null)
    {
        var admin = platform.Admin("tool");
        using var response = await admin.PutAsJsonAsync($"/v1/mcp-servers/{name}", new { transport = "stdio", command = ServerCommand.Value, args = new[] { "stdio" }, environment });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var server = JsonDocument.Parse(body);
        Assert.Equal("ready", server.RootElement.GetProperty("state").GetProperty("status").GetString());
        Assert.Contains($"mcp.{name}.echo", server.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
        return admin;
    }

    /// <summary>The pids of running server-everything processes (the tool service's children).</summary>
    private static List<int> ServerProcesses() =>
        Directory.GetDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0)
            .Where(pid => pid > 0 && ReadCommandLine(pid).Contains("mcp-server-everything", StringComparison.Ordinal) && ReadCommandLine(pid).Contains("stdio", StringComparison.Ordinal))
            .ToList();

    private static string ReadCommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
        }
        catch (IOException)
        {
            return "";
        }
        catch (UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string InstallServerEverything()
    {
        var folder = Path.Combine(Repository.Root, "tests", "mcp");
        NodePackages.Install(folder, Path.Combine("node_modules", ".bin", "mcp-server-everything"));
        return Path.Combine(folder, "node_modules", ".bin", "mcp-server-everything");
    }
}
