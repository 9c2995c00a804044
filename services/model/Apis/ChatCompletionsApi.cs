using System.Text.Json;
using Platform.Model.Agents;
using Platform.Model.Gateway;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Model.Apis;

public static class ChatCompletionsApi
{
    /// <summary>Larger bodies are refused before they are read.</summary>
    public const long MaxBodyBytes = 8 * 1024 * 1024;

    public static IEndpointRouteBuilder MapChatCompletionsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", CreateChatCompletion)
            .WithTags("Chat")
            .RequireScope(Scopes.Models)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(MaxBodyBytes));
        return app;
    }

    /// <summary>
    /// OpenAI's chat completions, plain or streamed as server-sent events ending with <c>data: [DONE]</c>. A request
    /// with an <c>Idempotency-Key</c> is made once: repeats get the stored answer.
    /// </summary>
    public static async Task CreateChatCompletion(HttpContext context, ChatGateway gateway, AgentCompletions agents)
    {
        if (!IdempotencyKeys.TryRead(context.Request.Headers, out var idempotencyKey))
        {
            await OpenAiError.IdempotencyKeyInvalid().WriteAsync(context);
            return;
        }

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

            if (AgentCompletions.Names(request!.Model))
            {
                await agents.HandleAsync(context, request, idempotencyKey);
                return;
            }

            await gateway.HandleAsync(context, request, idempotencyKey);
        }
    }
}
