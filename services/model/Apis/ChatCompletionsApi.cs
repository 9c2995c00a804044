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
    public static async Task CreateChatCompletion(HttpContext context, ModelCatalog catalog, ProviderRegistry providers)
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

            var deployments = await catalog.ResolveAsync(context.User.TenantId(), request!.Model);
            if (deployments.Count == 0)
            {
                await OpenAiError.InvalidRequest($"The model '{request.Model}' does not exist or you do not have access to it.", "model", "model_not_found")
                    .WriteAsync(context);
                return;
            }

            var deployment = deployments[0];
            var provider = providers.For(deployment.Provider);
            context.Response.Headers["x-platform-provider"] = provider.Name;
            context.Response.Headers["x-platform-deployment"] = deployment.Name;
            if (request.Stream)
            {
                await StreamAsync(context, request, deployment, provider, started);
            }
            else
            {
                var upstream = Stopwatch.GetTimestamp();
                var completion = await provider.CompleteAsync(request, deployment, context.RequestAborted);
                SetOverhead(context, Stopwatch.GetElapsedTime(started) - Stopwatch.GetElapsedTime(upstream));
                context.Response.ContentType = "application/json";
                await context.Response.Body.WriteAsync(ChatCompletionWriter.Completion(completion, Fingerprint(provider)), context.RequestAborted);
            }
        }
    }

    private static async Task StreamAsync(HttpContext context, ChatRequest request, ModelDeployment deployment, IChatProvider provider, long started)
    {
        var id = $"chatcmpl-{Guid.NewGuid():N}";
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var upstream = Stopwatch.GetTimestamp();
        Usage? usage = null;
        var headersSent = false;
        await foreach (var chunk in provider.StreamAsync(request, deployment, context.RequestAborted))
        {
            if (!headersSent)
            {
                SetOverhead(context, Stopwatch.GetElapsedTime(started) - Stopwatch.GetElapsedTime(upstream));
                context.Response.ContentType = "text/event-stream";
                context.Response.Headers.CacheControl = "no-cache";
                headersSent = true;
            }

            usage = chunk.Usage ?? usage;
            await WriteEventAsync(context, ChatCompletionWriter.Chunk(chunk with { Usage = null }, id, created, deployment.UpstreamModel, Fingerprint(provider), request.IncludeUsage));
        }

        if (request.IncludeUsage && usage is not null)
        {
            await WriteEventAsync(context, ChatCompletionWriter.Chunk(new ChatChunk(null, null, [], null, usage), id, created, deployment.UpstreamModel, Fingerprint(provider), true));
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

    /// <summary>Time spent in the gateway itself, upstream time excluded.</summary>
    private static void SetOverhead(HttpContext context, TimeSpan overhead) =>
        context.Response.Headers["x-platform-overhead-ms"] = Math.Max(0, overhead.TotalMilliseconds).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    private static string Fingerprint(IChatProvider provider) => $"platform-{provider.Name}";
}
