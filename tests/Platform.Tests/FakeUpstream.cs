using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Tests;

/// <summary>
/// A protocol-faithful stand-in for a paid LLM API, the one thing that cannot run here: OpenAI's chat completions
/// wire format, plain and streamed. The requested model name says how to behave: <c>ok-*</c> answers, <c>limited-*</c>
/// answers 429 with Retry-After 30, <c>flaky-*</c> answers 429 with Retry-After 1 once then succeeds, <c>broken-*</c>
/// answers 500, <c>slow-*</c> answers after 3 s, <c>toolong-*</c> reports a context-window error, <c>breaks-*</c>
/// drops the connection in the middle of a stream.
/// </summary>
public sealed class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new();

    private FakeUpstream(WebApplication app) => _app = app;

    public string BaseUrl => _app.Urls.First() + "/v1";

    public int Calls(string model) => _calls.GetValueOrDefault(model);

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeUpstream(app);
        app.MapPost("/v1/chat/completions", fake.ChatAsync);
        await app.StartAsync();
        return fake;
    }

    private async Task ChatAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var model = body["model"]!.GetValue<string>();
        var call = _calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        var stream = body["stream"]?.GetValue<bool>() == true;
        switch (model.Split('-')[0])
        {
            case "limited":
                await ErrorAsync(context, 429, "rate_limit_exceeded", "Rate limit reached", retryAfter: 30);
                return;
            case "flaky" when call == 1:
                await ErrorAsync(context, 429, "rate_limit_exceeded", "Rate limit reached", retryAfter: 1);
                return;
            case "broken":
                await ErrorAsync(context, 500, null, "The server had an error");
                return;
            case "toolong":
                await ErrorAsync(context, 400, "context_length_exceeded", "This model's maximum context length is 10 tokens.");
                return;
            case "slow":
                await Task.Delay(TimeSpan.FromSeconds(3), context.RequestAborted);
                break;
        }

        var text = $"Hello from {model}";
        if (!stream)
        {
            await context.Response.WriteAsJsonAsync(new
            {
                id = "chatcmpl-fake",
                @object = "chat.completion",
                created = 1_700_000_000,
                model,
                choices = new[] { new { index = 0, message = new { role = "assistant", content = text }, finish_reason = "stop" } },
                usage = new { prompt_tokens = 7, completion_tokens = 4, total_tokens = 11 },
            });
            return;
        }

        context.Response.ContentType = "text/event-stream";
        string[] pieces = ["Hello", " from", $" {model}"];
        for (var i = 0; i < pieces.Length; i++)
        {
            if (model.StartsWith("breaks-", StringComparison.Ordinal) && i == 2)
            {
                // Let the first chunks reach the gateway, then drop the connection.
                await Task.Delay(300);
                context.Abort();
                return;
            }

            await WriteEventAsync(context, new { id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 1_700_000_000, model,
                choices = new[] { new { index = 0, delta = new { content = pieces[i] }, finish_reason = (string?)null } } });
        }

        await WriteEventAsync(context, new { id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 1_700_000_000, model,
            choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } } });
        await WriteEventAsync(context, new { id = "chatcmpl-fake", @object = "chat.completion.chunk", created = 1_700_000_000, model,
            choices = Array.Empty<object>(), usage = new { prompt_tokens = 7, completion_tokens = 4, total_tokens = 11 } });
        await context.Response.WriteAsync("data: [DONE]\n\n");
    }

    private static async Task WriteEventAsync(HttpContext context, object payload)
    {
        await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(payload)}\n\n");
        await context.Response.Body.FlushAsync();
    }

    private static async Task ErrorAsync(HttpContext context, int status, string? code, string message, int? retryAfter = null)
    {
        context.Response.StatusCode = status;
        if (retryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await context.Response.WriteAsJsonAsync(new { error = new { message, type = "invalid_request_error", param = (string?)null, code } });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
