using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Benchmarks;

/// <summary>
/// The OpenAI-compatible upstream both sides of the like-for-like comparison call, so their model work is the same:
/// a request for the <c>platform_plan</c> schema gets a plan of three model steps one after another; a streamed request
/// gets <see cref="StreamedTokens"/> content chunks, a usage chunk and <c>[DONE]</c>, written at once. It counts the
/// requests each side makes.
/// </summary>
internal sealed class PlanningUpstream : IAsyncDisposable
{
    public const int StreamedTokens = 32;

    private static readonly string Plan = new JsonObject
    {
        ["steps"] = new JsonArray(
            Step("outline", "Outline the topic", []),
            Step("draft", "Draft a paragraph", ["outline"]),
            Step("summary", "Summarise it", ["draft"])),
    }.ToJsonString();

    private static readonly byte[] Stream = Encoding.UTF8.GetBytes(string.Concat(
        Enumerable.Range(0, StreamedTokens).Select(i => Chunk($$"""{"content":"word{{i}} "}""", null, null))
            .Append(Chunk("{}", "\"stop\"", null))
            .Append(Chunk(null, null, $$"""{"prompt_tokens":40,"completion_tokens":{{StreamedTokens}},"total_tokens":{{40 + StreamedTokens}}}"""))
            .Append("data: [DONE]\n\n")));

    private readonly WebApplication _app;
    private int _requests;

    private PlanningUpstream(WebApplication app) => _app = app;

    public string BaseUrl => _app.Urls.First();

    public int Requests => Volatile.Read(ref _requests);

    public static async Task<PlanningUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var upstream = new PlanningUpstream(app);
        app.MapPost("/chat/completions", upstream.AnswerAsync);
        await app.StartAsync();
        return upstream;
    }

    private async Task AnswerAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        using var request = await JsonDocument.ParseAsync(context.Request.Body);
        var root = request.RootElement;
        if (root.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.Body.WriteAsync(Stream);
            return;
        }

        var planning = root.TryGetProperty("response_format", out var format)
            && format.TryGetProperty("json_schema", out var schema) && schema.TryGetProperty("name", out var name) && name.GetString() == "platform_plan";
        await context.Response.WriteAsJsonAsync(new
        {
            id = "chatcmpl-plan",
            @object = "chat.completion",
            created = 1_700_000_000,
            model = "mock",
            choices = new[] { new { index = 0, message = new { role = "assistant", content = planning ? Plan : "Done." }, finish_reason = "stop" } },
            usage = new { prompt_tokens = 400, completion_tokens = 120, total_tokens = 520 },
        });
    }

    private static JsonObject Step(string id, string title, string[] dependsOn) => new()
    {
        ["id"] = id,
        ["title"] = title,
        ["instruction"] = $"{title}.",
        ["kind"] = "model",
        ["tool"] = null,
        ["arguments"] = "{}",
        ["dependsOn"] = new JsonArray([.. dependsOn.Select(d => (JsonNode)d)]),
        ["acceptance"] = "Brief.",
    };

    private static string Chunk(string? delta, string? finish, string? usage) =>
        $$"""data: {"id":"chatcmpl-stream","object":"chat.completion.chunk","created":1700000000,"model":"mock","choices":[{{(delta is null ? "" : $$"""{"index":0,"delta":{{delta}},"finish_reason":{{finish ?? "null"}}}""")}}]{{(usage is null ? "" : $$""","usage":{{usage}}""")}}}""" + "\n\n";

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
