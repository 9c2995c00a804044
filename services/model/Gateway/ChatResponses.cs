using System.Globalization;
using Platform.Model.Providers;

namespace Platform.Model.Gateway;

/// <summary>Writes answers to the client: a JSON body, or server-sent events ending with <c>data: [DONE]</c>.</summary>
public static class ChatResponses
{
    /// <summary>A plain answer's cost in USD; a streamed one carries it as <c>usage.cost_usd</c> when usage is asked for.</summary>
    public const string CostHeader = "x-platform-cost-usd";

    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>
    /// A whole completion, as JSON or, when the client asked to stream, replayed as a stream under the completion's own
    /// id, so that a replayed answer is the same completion however it is received.
    /// </summary>
    public static async Task WriteAsync(HttpContext context, ChatRequest request, ChatCompletion completion, string provider, decimal costUsd)
    {
        if (!request.Stream)
        {
            context.Response.ContentType = "application/json";
            context.Response.Headers[CostHeader] = FormatCost(costUsd);
            await context.Response.Body.WriteAsync(ChatCompletionWriter.Completion(completion, Fingerprint(provider)), context.RequestAborted);
            return;
        }

        var stream = new Stream(context, request, completion.Model, provider, completion.Id, completion.Created);
        foreach (var chunk in CompletionChunks.From(completion))
        {
            await stream.WriteAsync(chunk);
        }

        await stream.CompleteAsync(completion.Usage, costUsd);
    }

    /// <summary>A cost as the ledger keeps it (8 decimal places, rounded as PostgreSQL rounds), in the invariant culture.</summary>
    public static string FormatCost(decimal costUsd) =>
        Math.Round(costUsd, 8, MidpointRounding.AwayFromZero).ToString("0.########", CultureInfo.InvariantCulture);

    private static string Fingerprint(string provider) => $"platform-{provider}";

    public sealed class Stream(HttpContext context, ChatRequest request, string model, string provider, string? id = null, long? created = null)
    {
        public string Id { get; } = id ?? $"chatcmpl-{Guid.NewGuid():N}";

        public long Created { get; } = created ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();

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

        /// <summary>The usage chunk, with the cost, when the client asked for it, then <c>[DONE]</c>.</summary>
        public async Task CompleteAsync(Usage? usage, decimal costUsd)
        {
            if (request.IncludeUsage && usage is not null)
            {
                await WriteEventAsync(ChatCompletionWriter.Chunk(new ChatChunk(null, null, [], null, usage), Id, Created, model, Fingerprint(provider), true,
                    FormatCost(costUsd)));
            }

            await context.Response.Body.WriteAsync(Done, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        public async Task FailAsync(OpenAiError error)
        {
            await WriteEventAsync(System.Text.Encoding.UTF8.GetBytes(OpenAiError.AsJson(error)));
            await FlushAsync();
        }

        /// <summary>
        /// Sends what was written. The caller flushes only when no next chunk is ready yet: a burst of chunks goes out in
        /// one write, and a chunk that waits for the next never waits in the buffer.
        /// </summary>
        public Task FlushAsync() => context.Response.Body.FlushAsync(context.RequestAborted);

        private async Task WriteEventAsync(byte[] json)
        {
            await context.Response.Body.WriteAsync(DataPrefix, context.RequestAborted);
            await context.Response.Body.WriteAsync(json, context.RequestAborted);
            await context.Response.Body.WriteAsync(EventEnd, context.RequestAborted);
        }
    }
}
