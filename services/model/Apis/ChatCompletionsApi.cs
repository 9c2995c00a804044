using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Platform.Model.Catalog;
using Platform.Model.Gateway;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Model.Apis;

public static class ChatCompletionsApi
{
    /// <summary>Larger bodies are refused before they are read.</summary>
    public const long MaxBodyBytes = 8 * 1024 * 1024;

    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletion)
            .WithTags("Chat")
            .RequireScope(Scopes.Models)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxBodyBytes));
        return app;
    }

    /// <summary>OpenAI's chat completions, plain or streamed as server-sent events ending with <c>data: [DONE]</c>.</summary>
    public static async Task CreateChatCompletion(HttpContext context, ModelCatalog catalog, ChatRouter router)
    {
        var started = Stopwatch.GetTimestamp();
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        }
        catch (JsonException e)
        {
            await OpenAiError.InvalidRequest($"We could not parse the JSON body of your request: {e.Message}").WriteAsync(context);
            return;
        }
        catch (BadHttpRequestException e)
        {
            await new OpenAiError(e.StatusCode, e.Message, "invalid_request_error", null, "request_too_large").WriteAsync(context);
            return;
        }

        using (document)
        {
            var (request, error) = ChatRequestParser.Parse(document.RootElement);
            if (error is not null)
            {
                await error.WriteAsync(context);
                return;
            }

            var route = await catalog.ResolveAsync(context.User.TenantId(), request!.Model);
            if (route is null)
            {
                await OpenAiError.InvalidRequest($"The model '{request.Model}' does not exist or you do not have access to it.", "model", "model_not_found")
                    .WriteAsync(context);
                return;
            }

            try
            {
                if (request.Stream)
                {
                    await StreamAsync(context, request, await router.StreamAsync(request, route, context.RequestAborted), started);
                }
                else
                {
                    var routed = await router.CompleteAsync(request, route, context.RequestAborted);
                    SetHeaders(context, routed.Deployment, Stopwatch.GetElapsedTime(started) - routed.UpstreamTime);
                    context.Response.ContentType = "application/json";
                    await context.Response.Body.WriteAsync(ChatCompletionWriter.Completion(routed.Completion, Fingerprint(routed.Deployment)), context.RequestAborted);
                }
            }
            catch (RoutingException e)
            {
                await e.Error.WriteAsync(context);
            }
        }
    }

    private static async Task StreamAsync(HttpContext context, ChatRequest request, RoutedStream routed, long started)
    {
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var model = routed.Deployment.UpstreamModel;
        var fingerprint = Fingerprint(routed.Deployment);
        SetHeaders(context, routed.Deployment, Stopwatch.GetElapsedTime(started) - routed.TimeToFirstChunk);
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        Usage? usage = null;
        await using (var chunks = routed.Chunks)
        {
            try
            {
                do
                {
                    var chunk = chunks.Current;
                    usage = chunk.Usage ?? usage;
                    if (chunk.Role is not null || chunk.Content is not null || chunk.ToolCalls.Count > 0 || chunk.FinishReason is not null)
                    {
                        await WriteEventAsync(context, ChatCompletionWriter.Chunk(chunk with { Usage = null }, id, created, model, fingerprint, request.IncludeUsage));
                    }
                }
                while (await chunks.MoveNextAsync());
            }
            catch (Exception e) when (e is UpstreamException or IOException or HttpRequestException or JsonException)
            {
                // The stream has started: it is never retried. The client learns why it ended early.
                var reason = $"{routed.Deployment.Name} failed mid-stream: {e.Message}";
                await WriteEventAsync(context, System.Text.Encoding.UTF8.GetBytes(OpenAiError.AsJson(OpenAiError.UpstreamFailed(reason))));
                return;
            }
        }

        if (request.IncludeUsage && usage is not null)
        {
            await WriteEventAsync(context, ChatCompletionWriter.Chunk(new ChatChunk(null, null, [], null, usage), id, created, model, fingerprint, true));
        }

        await context.Response.Body.WriteAsync(Done, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    private static async Task WriteEventAsync(HttpContext context, byte[] json)
    {
        await context.Response.Body.WriteAsync(DataPrefix, context.RequestAborted);
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
        await context.Response.Body.WriteAsync(EventEnd, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    /// <summary>Which deployment answered, and the time spent in the gateway itself, upstream time excluded.</summary>
    private static void SetHeaders(HttpContext context, ModelDeployment deployment, TimeSpan overhead)
    {
        context.Response.Headers["x-platform-provider"] = deployment.Provider;
        context.Response.Headers["x-platform-deployment"] = deployment.Name;
        context.Response.Headers["x-platform-overhead-ms"] = Math.Max(0, overhead.TotalMilliseconds).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Fingerprint(ModelDeployment deployment) => $"platform-{deployment.Provider}";
}
