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
/// answers 500, <c>slow-*</c> answers after 3 s, <c>lag-*</c> after 1 s, <c>garbage-*</c> answers 200 with broken JSON, <c>toolong-*</c> reports a context-window error, <c>breaks-*</c>
/// drops the connection in the middle of a stream; <c>picky-*</c> refuses a request that has a <c>response_format</c>
/// with 400, <c>missing-*</c> answers 404, <c>unprocessable-*</c> 422, <c>scripted-*</c> answers what a test scripted
/// (FakeUpstream.Scripted.cs), <c>held-*</c> answers its first call once the test calls <see cref="Release"/> and later
/// calls at once. It remembers the Authorization header of each model's last call.
/// </summary>
public sealed partial class FakeUpstream : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, int> _calls = new();
    private readonly ConcurrentDictionary<string, string> _authorizations = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new();

    private FakeUpstream(WebApplication app) => _app = app;

    public string BaseUrl => _app.Urls.First() + "/v1";

    public int Calls(string model) => _calls.GetValueOrDefault(model);

    public string? Authorization(string model) => _authorizations.GetValueOrDefault(model);

    /// <summary>Lets the first call of a <c>held-*</c> model answer.</summary>
    public void Release(string model) => Hold(model).TrySetResult();

    public static async Task<FakeUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeUpstream(app);
        app.MapPost("/v1/chat/completions", fake.ChatAsync);
        app.MapPost("/v1/messages", fake.MessagesAsync);
        await app.StartAsync();
        return fake;
    }

    private async Task ChatAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var model = body["model"]!.GetValue<string>();
        var call = _calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        _authorizations[model] = context.Request.Headers.Authorization.ToString();
        var stream = body["stream"]?.GetValue<bool>() == true;
        switch (model.Split('-')[0])
        {
            case "scripted":
                await ScriptedChatAsync(context, body, model);
                return;
            case "picky" when body["response_format"] is not null:
                await ErrorAsync(context, 400, "invalid_value", "Invalid schema for response_format 'answer'.", param: "response_format");
                return;
            case "missing":
                await ErrorAsync(context, 404, "model_not_found", $"The model '{model}' does not exist.");
                return;
            case "unprocessable":
                await ErrorAsync(context, 422, null, "Unprocessable request.");
                return;
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
            case "garbage":
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync("{\"choices\": [");
                return;
            case "lag":
                await Task.Delay(TimeSpan.FromSeconds(1), context.RequestAborted);
                break;
            case "held" when call == 1:
                await Hold(model).Task.WaitAsync(context.RequestAborted);
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

    /// <summary>
    /// Anthropic's Messages API, strict about what real Anthropic rejects (a system role among messages, turns that do
    /// not alternate, a missing max_tokens or version header), so a translation mistake fails loudly. It calls a tool
    /// the last user turn names, reports tool results it is given, and answers forced tools with a fixed input.
    /// </summary>
    private async Task MessagesAsync(HttpContext context)
    {
        var body = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var model = body["model"]!.GetValue<string>();
        _calls.AddOrUpdate(model, 1, (_, n) => n + 1);
        var messages = body["messages"]!.AsArray();
        var roles = messages.Select(m => m!["role"]!.GetValue<string>()).ToList();
        if (context.Request.Headers["anthropic-version"].Count == 0 || body["max_tokens"] is null || roles.Contains("system")
            || roles.Count == 0 || roles[0] != "user" || roles.Zip(roles.Skip(1)).Any(p => p.First == p.Second))
        {
            await AnthropicErrorAsync(context, 400, "invalid_request_error", $"malformed request: roles {string.Join(",", roles)}");
            return;
        }

        if (model.StartsWith("overloaded-", StringComparison.Ordinal))
        {
            await AnthropicErrorAsync(context, 529, "overloaded_error", "Overloaded");
            return;
        }

        if (model.StartsWith("scripted-", StringComparison.Ordinal))
        {
            await ScriptedMessagesAsync(context, body, model);
            return;
        }

        var lastBlocks = messages[^1]!["content"]!.AsArray();
        var lastText = string.Join(" ", lastBlocks.Where(b => b!["type"]!.GetValue<string>() == "text").Select(b => b!["text"]!.GetValue<string>()));
        var toolResult = lastBlocks.FirstOrDefault(b => b!["type"]!.GetValue<string>() == "tool_result");
        var tools = body["tools"]?.AsArray().Select(t => t!["name"]!.GetValue<string>()).ToList() ?? [];
        var forced = body["tool_choice"]?["type"]?.GetValue<string>() == "tool" ? body["tool_choice"]!["name"]!.GetValue<string>() : null;
        var named = forced ?? (toolResult is null ? tools.FirstOrDefault(t => lastText.Contains(t, StringComparison.Ordinal)) : null);
        object input = forced is not null ? new { answer = "forty-two" } : new { city = "Paris" };
        var text = toolResult is not null
            ? $"Tool said: {toolResult["content"]!.GetValue<string>()}"
            : $"Hello from {model}{(body["system"] is { } system ? $" (system: {system.GetValue<string>()})" : "")}";
        object block = named is not null ? new { type = "tool_use", id = "toolu_fake1", name = named, input } : new { type = "text", text };
        var stopReason = named is not null ? "tool_use" : "end_turn";
        if (body["stream"]?.GetValue<bool>() != true)
        {
            await context.Response.WriteAsJsonAsync(new
            {
                id = "msg_fake", type = "message", role = "assistant", model, content = new[] { block }, stop_reason = stopReason,
                stop_sequence = (string?)null, usage = new { input_tokens = 9, output_tokens = 5 },
            });
            return;
        }

        context.Response.ContentType = "text/event-stream";
        await AnthropicEventAsync(context, "message_start", new { type = "message_start", message = new { id = "msg_fake", type = "message", role = "assistant",
            model, content = Array.Empty<object>(), usage = new { input_tokens = 9, output_tokens = 1 } } });
        if (named is not null)
        {
            await AnthropicEventAsync(context, "content_block_start", new { type = "content_block_start", index = 0,
                content_block = new { type = "tool_use", id = "toolu_fake1", name = named, input = new { } } });
            var json = JsonSerializer.Serialize(input);
            foreach (var piece in new[] { json[..(json.Length / 2)], json[(json.Length / 2)..] })
            {
                await AnthropicEventAsync(context, "content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "input_json_delta", partial_json = piece } });
            }
        }
        else
        {
            await AnthropicEventAsync(context, "content_block_start", new { type = "content_block_start", index = 0, content_block = new { type = "text", text = "" } });
            foreach (var word in text.Split(' ').Select((w, i) => i == 0 ? w : " " + w))
            {
                await AnthropicEventAsync(context, "content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "text_delta", text = word } });
            }
        }

        await AnthropicEventAsync(context, "content_block_stop", new { type = "content_block_stop", index = 0 });
        await AnthropicEventAsync(context, "message_delta", new { type = "message_delta", delta = new { stop_reason = stopReason, stop_sequence = (string?)null },
            usage = new { output_tokens = 5 } });
        await AnthropicEventAsync(context, "message_stop", new { type = "message_stop" });
    }

    private TaskCompletionSource Hold(string model) => _held.GetOrAdd(model, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

    private static async Task AnthropicEventAsync(HttpContext context, string name, object payload)
    {
        await context.Response.WriteAsync($"event: {name}\ndata: {JsonSerializer.Serialize(payload)}\n\n");
        await context.Response.Body.FlushAsync();
    }

    private static async Task AnthropicErrorAsync(HttpContext context, int status, string type, string message)
    {
        context.Response.StatusCode = status;
        await context.Response.WriteAsJsonAsync(new { type = "error", error = new { type, message } });
    }

    private static async Task WriteEventAsync(HttpContext context, object payload)
    {
        await context.Response.WriteAsync($"data: {JsonSerializer.Serialize(payload)}\n\n");
        await context.Response.Body.FlushAsync();
    }

    private static async Task ErrorAsync(HttpContext context, int status, string? code, string message, int? retryAfter = null, string? param = null)
    {
        context.Response.StatusCode = status;
        if (retryAfter is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        await context.Response.WriteAsJsonAsync(new { error = new { message, type = "invalid_request_error", param, code } });
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
