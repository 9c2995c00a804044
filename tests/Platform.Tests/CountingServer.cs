using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Tests;

/// <summary>An HTTP endpoint with a visible side effect: it counts the calls it receives, slowly, so calls overlap.</summary>
public sealed class CountingServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _count;

    private CountingServer(WebApplication app) => _app = app;

    public int Count => Volatile.Read(ref _count);

    public Uri Url => new(_app.Urls.First());

    public static async Task<CountingServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new CountingServer(app);
        app.MapPost("/count", async () =>
        {
            await Task.Delay(300);
            return Results.Json(new { count = Interlocked.Increment(ref server._count) });
        });
        app.MapGet("/hello", () => Results.Text("hello"));
        app.MapGet("/nul", (int? status) => Results.Text("before\0after", statusCode: status ?? 200));
        app.MapGet("/overflow", () => Results.Text("{\"n\":1e131072}", "application/json"));
        app.MapGet("/whoami", (HttpRequest request) => Results.Text(request.Headers.Authorization.ToString()));
        app.MapGet("/redirect", (string to) => Results.Redirect(to));
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
