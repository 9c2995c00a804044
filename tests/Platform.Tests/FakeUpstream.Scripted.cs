using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Platform.Tests;

/// <summary>
/// <c>scripted-*</c> models: each call answers the next of the texts a test scripted (the last one again once they
/// run out), over OpenAI's chat completions or, as a forced tool's input, Anthropic's Messages; every request body
/// is kept for the test to inspect.
/// </summary>
public sealed partial class FakeUpstream
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<string>> _scripts = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<JsonObject>> _requests = new();

    public void Script(string model, params string[] answers) => _scripts[model] = new ConcurrentQueue<string>(answers);

    public IReadOnlyList<JsonObject> Requests(string model) => _requests.TryGetValue(model, out var requests) ? [.. requests] : [];

    private string NextAnswer(string model, JsonObject body)
    {
        _requests.GetOrAdd(model, _ => new()).Enqueue((JsonObject)body.DeepClone());
        var script = _scripts.GetValueOrDefault(model);
        if (script is null)
        {
            return "{}";
        }

        return script.Count > 1 && script.TryDequeue(out var next) ? next : script.TryPeek(out var last) ? last : "{}";
    }

    private async Task ScriptedChatAsync(HttpContext context, JsonObject body, string model) =>
        await context.Response.WriteAsJsonAsync(new
        {
            id = "chatcmpl-scripted",
            @object = "chat.completion",
            created = 1_700_000_000,
            model,
            choices = new[] { new { index = 0, message = new { role = "assistant", content = NextAnswer(model, body) }, finish_reason = "stop" } },
            usage = new { prompt_tokens = 100, completion_tokens = 50, total_tokens = 150 },
        });

    private async Task ScriptedMessagesAsync(HttpContext context, JsonObject body, string model) =>
        await context.Response.WriteAsJsonAsync(new
        {
            id = "msg_scripted",
            type = "message",
            role = "assistant",
            model,
            content = new[] { new { type = "tool_use", id = "toolu_scripted", name = body["tool_choice"]?["name"]?.GetValue<string>() ?? "respond", input = JsonNode.Parse(NextAnswer(model, body)) } },
            stop_reason = "tool_use",
            stop_sequence = (string?)null,
            usage = new { input_tokens = 100, output_tokens = 50 },
        });
}
