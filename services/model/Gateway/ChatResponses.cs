using Platform.Model.Providers;

namespace Platform.Model.Gateway;

/// <summary>Writes answers to the client: a JSON body, or server-sent events ending with <c>data: [DONE]</c>.</summary>
public static class ChatResponses
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>A whole completion, as JSON or, when the client asked to stream, replayed as a stream.</summary>
    public static async Task WriteAsync(HttpContext context, ChatRequest request, ChatCompletion completion, string provider)
    {
        if (!request.Stream)
        {
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(ChatCompletionWriter.Completion(completion, Fingerprint(provider)), context.RequestAborted);
            return;
        }

        var stream = new Stream(context, request, completion.Model, provider);
        foreach (var chunk in CompletionChunks.From(completion))
        {
            await stream.WriteAsync(chunk);
        }

        await stream.CompleteAsync(completion.Usage);
    }

    private static string Fingerprint(string provider) => $"platform-{provider}";

    public sealed class Stream(HttpContext context, ChatRequest request, string model, string provider)
    {
        public string Id { get; } = $"chatcmpl-{Guid.NewGuid():N}";

        public long Created { get; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        public async Task WriteAsync(ChatChunk chunk)
        {
            if (!context.Response.HasStarted)
            {
                context.Response.ContentType = "text/event-stream";
                context.Response.Headers.CacheControl = "no-cache";
            }

            if (chunk.Role is not null || chunk.Content is not null || chunk.ToolCalls.Count > 0 || chunk.FinishReason is not null)
            {
                await WriteEventAsync(ChatCompletionWriter.Chunk(chunk with { Usage = null }, Id, Created, model, Fingerprint(provider), request.IncludeUsage));
            }
        }

        /// <summary>The usage chunk when the client asked for it, then <c>[DONE]</c>.</summary>
        public async Task CompleteAsync(Usage? usage)
        {
            if (request.IncludeUsage && usage is not null)
            {
                await WriteEventAsync(ChatCompletionWriter.Chunk(new ChatChunk(null, null, [], null, usage), Id, Created, model, Fingerprint(provider), true));
            }

            await context.Response.Body.WriteAsync(Done, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        public async Task FailAsync(OpenAiError error) => await WriteEventAsync(System.Text.Encoding.UTF8.GetBytes(OpenAiError.AsJson(error)));

        private async Task WriteEventAsync(byte[] json)
        {
            await context.Response.Body.WriteAsync(DataPrefix, context.RequestAborted);
            await context.Response.Body.WriteAsync(json, context.RequestAborted);
            await context.Response.Body.WriteAsync(EventEnd, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
}
