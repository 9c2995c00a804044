using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Platform.Tests.Tool;

/// <summary>
/// MCP servers over Streamable HTTP are reached through the SSRF guard with the registering tenant's allowlist (the
/// platform admin's, who alone registers servers), against <c>@modelcontextprotocol/server-everything</c> serving
/// Streamable HTTP.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class McpHttpTests(PlatformFixture platform)
{
    [Fact]
    public async Task AServerAtALoopbackAddressIsRefusedAndNeverContacted()
    {
        using var target = new ConnectionCounter();
        using var admin = platform.Admin("tool");

        var registered = await PutServerAsync(admin, "loopback", $"http://127.0.0.1:{target.Port}/mcp");
        using var refreshed = await admin.PostAsync("/v1/mcp-servers/loopback/refresh", null);
        using var listed = JsonDocument.Parse(await admin.GetStringAsync("/v1/mcp-servers"));
        await admin.DeleteAsync("/v1/mcp-servers/loopback");

        var state = registered.GetProperty("state");
        Assert.Equal("failed", state.GetProperty("status").GetString());
        Assert.StartsWith("Refused address", state.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        var listedState = listed.RootElement.EnumerateArray().Single(s => s.GetProperty("name").GetString() == "loopback").GetProperty("state");
        Assert.Equal("failed", listedState.GetProperty("status").GetString());
        Assert.Equal(0, await target.AcceptedBeforeMarkerAsync());
    }

    [Fact]
    public async Task AnAllowListedStreamableHttpServerIsDiscoveredAndItsToolsCalled()
    {
        var port = FreePort();
        using var server = StartStreamableHttpServer(port);
        using var admin = platform.Admin("tool");
        await platform.AppHost.GrantPrivateAsync(platform.AppHost.AdminApiKey, $"http://127.0.0.1:{port}");
        try
        {
            var registered = await PutServerAsync(admin, "everything-http", $"http://127.0.0.1:{port}/mcp");
            var echo = await InvocationTests.InvokeAsync(admin, "mcp.everything-http.echo", new { message = "over http" });

            Assert.Equal("ready", registered.GetProperty("state").GetProperty("status").GetString());
            Assert.Contains("mcp.everything-http.echo", registered.GetProperty("tools").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("succeeded", echo.GetProperty("status").GetString());
            Assert.Contains("over http", echo.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await admin.DeleteAsync("/v1/mcp-servers/everything-http");
        }
    }

    private static async Task<JsonElement> PutServerAsync(HttpClient admin, string name, string url)
    {
        using var response = await admin.PutAsJsonAsync($"/v1/mcp-servers/{name}", new { transport = "http", url });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>server-everything serving Streamable HTTP on <paramref name="port"/>, ready once it says it listens.</summary>
    private static ServerProcess StartStreamableHttpServer(int port)
    {
        var start = new ProcessStartInfo(McpTests.ServerCommand.Value, ["streamableHttp"]) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource();
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("listening on port", StringComparison.OrdinalIgnoreCase) == true)
            {
                listening.TrySetResult();
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var server = new ServerProcess(process);
        if (!listening.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            server.Dispose();
            Assert.Fail("server-everything did not start listening");
        }

        return server;
    }

    private sealed class ServerProcess(Process process) : IDisposable
    {
        public void Dispose()
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
            process.Dispose();
        }
    }
}
