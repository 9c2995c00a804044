using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Platform.Benchmarks;

/// <summary>An OpenAI-compatible upstream that answers at once, so what is measured is the gateway.</summary>
internal sealed class MockUpstream : IAsyncDisposable
{
    private const string Answer = """
        {"id":"chatcmpl-mock","object":"chat.completion","created":1700000000,"model":"mock","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}
        """;

    private readonly WebApplication _app;

    private MockUpstream(WebApplication app) => _app = app;

    public string BaseUrl => _app.Urls.First();

    public static async Task<MockUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/chat/completions", () => Microsoft.AspNetCore.Http.Results.Text(Answer, "application/json"));
        await app.StartAsync();
        return new MockUpstream(app);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
