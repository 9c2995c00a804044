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
    private volatile bool _failing;
    private int _failuresLeft;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _byRun = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _undoneByRun = new(StringComparer.Ordinal);

    private CountingServer(WebApplication app) => _app = app;

    public int Count => Volatile.Read(ref _count);

    /// <summary>Calls to <c>/record</c>, by the <c>run</c> they named.</summary>
    public IReadOnlyDictionary<string, int> CallsByRun => _byRun;

    /// <summary>Calls to <c>/undo</c>, by the <c>run</c> they named.</summary>
    public IReadOnlyDictionary<string, int> UndoneByRun => _undoneByRun;

    /// <summary>While set, <c>/flaky</c> answers 503.</summary>
    public bool Failing { get => _failing; set => _failing = value; }

    /// <summary><c>/flaky</c> answers 503 to the next <paramref name="calls"/> calls.</summary>
    public void FailNext(int calls) => Volatile.Write(ref _failuresLeft, calls);

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
        app.MapPost("/record", async (HttpRequest request) =>
        {
            var body = await System.Text.Json.JsonDocument.ParseAsync(request.Body);
            var run = body.RootElement.TryGetProperty("run", out var r) ? r.ToString() : "";
            await Task.Delay(100);
            server._byRun.AddOrUpdate(run, 1, (_, n) => n + 1);
            return Results.Json(new { count = Interlocked.Increment(ref server._count) });
        });
        app.MapPost("/undo", async (HttpRequest request) =>
        {
            var body = await System.Text.Json.JsonDocument.ParseAsync(request.Body);
            var run = body.RootElement.TryGetProperty("run", out var r) ? r.ToString() : "";
            server._undoneByRun.AddOrUpdate(run, 1, (_, n) => n + 1);
            return Results.Json(new { undone = run });
        });
        app.MapPost("/slow", async () =>
        {
            // Ends when the server stops, so that disposing it does not wait out a call its caller gave up on.
            await Task.Delay(TimeSpan.FromSeconds(20), app.Lifetime.ApplicationStopping);
            return Results.Json(new { count = Interlocked.Increment(ref server._count) });
        });
        app.MapPost("/flaky", () => server._failing || Interlocked.Decrement(ref server._failuresLeft) >= 0
            ? Results.Text("failing on purpose", statusCode: StatusCodes.Status503ServiceUnavailable)
            : Results.Json(new { count = Interlocked.Increment(ref server._count) }));
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
