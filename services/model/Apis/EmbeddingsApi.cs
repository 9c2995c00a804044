using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Model.Budgets;
using Platform.Model.Catalog;
using Platform.Model.Gateway;
using Platform.Model.Ledger;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Model.Apis;

public static class EmbeddingsApi
{
    private const int MaxInputs = 2048;
    private static readonly HashSet<string> KnownParameters = ["model", "input", "encoding_format", "dimensions", "user"];

    public static IEndpointRouteBuilder MapEmbeddingsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embeddings", CreateEmbeddings)
            .WithTags("Embeddings")
            .RequireScope(Scopes.Models)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(ChatCompletionsApi.MaxBodyBytes));
        return app;
    }

    /// <summary>OpenAI's embeddings, from the alias's deployments whose provider has them; float or base64 vectors.</summary>
    public static async Task CreateEmbeddings(HttpContext context, ModelCatalog catalog, ChatRouter router, BudgetGate budgets, UsageLedger ledger, TimeProvider time)
    {
        var started = Stopwatch.GetTimestamp();
        JsonObject body;
        try
        {
            body = (await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted)) as JsonObject
                ?? throw new JsonException("The request body must be a JSON object.");
        }
        catch (JsonException e)
        {
            await OpenAiError.InvalidRequest($"We could not parse the JSON body of your request: {e.Message}").WriteAsync(context);
            return;
        }

        var (request, base64, error) = Parse(body);
        if (error is not null)
        {
            await error.WriteAsync(context);
            return;
        }

        var tenantId = context.User.TenantId();
        var route = await catalog.ResolveAsync(tenantId, request!.Model);
        if (route is null)
        {
            await OpenAiError.ModelNotFound(request.Model).WriteAsync(context);
            return;
        }

        // Reserved before routing, so counted as the alias's first choice counts; the 1.5 margin covers the others.
        var tokens = request.Inputs.Sum((route.Deployments is [var first, ..] ? TokenCounter.For(first) : TokenCounter.O200k).Count);
        var reservation = await budgets.ReserveAsync(tenantId, context.User.KeyId(),
            route.Deployments.Max(d => d.Cost((int)Math.Ceiling(tokens * 1.5), 0)), (int)Math.Ceiling(tokens * 1.5));
        if (!reservation.Granted)
        {
            await OpenAiError.WriteRefusalAsync(context, reservation);
            return;
        }

        var (status, deploymentName, usage, cost) = (200, (string?)null, new Usage(0, 0), 0m);
        try
        {
            var (deployment, result) = await router.EmbedAsync(request, route, context.RequestAborted);
            (deploymentName, usage, cost) = (deployment.Name, result.Usage, deployment.Cost(result.Usage.PromptTokens, 0));
            context.Response.Headers["x-platform-provider"] = deployment.Provider;
            context.Response.Headers["x-platform-deployment"] = deployment.Name;
            await context.Response.WriteAsJsonAsync(new
            {
                @object = "list",
                data = result.Vectors.Select((vector, index) => new
                {
                    @object = "embedding",
                    index,
                    embedding = base64 ? (object)Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(vector.AsSpan())) : vector,
                }),
                model = result.Model,
                usage = new { prompt_tokens = result.Usage.PromptTokens, total_tokens = result.Usage.PromptTokens },
            });
        }
        catch (RoutingException e)
        {
            status = e.Error.Status;
            await e.Error.WriteAsync(context);
        }
        finally
        {
            await budgets.SettleAsync(reservation, cost, usage.TotalTokens);
            ledger.Record(new UsageRecord(time.GetUtcNow().UtcDateTime, tenantId, context.User.KeyId(), request.Model, deploymentName,
                usage.PromptTokens, 0, cost, (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds, false, status, Activity.Current?.TraceId.ToString()));
        }
    }

    private static (EmbeddingRequest? Request, bool Base64, OpenAiError? Error) Parse(JsonObject body)
    {
        if (body.Select(p => p.Key).FirstOrDefault(k => !KnownParameters.Contains(k)) is { } unknown)
        {
            return (null, false, OpenAiError.InvalidRequest($"Unrecognized request argument supplied: {unknown}", unknown, "unknown_parameter"));
        }

        if (body["model"] is not JsonValue model || model.GetValueKind() != JsonValueKind.String || string.IsNullOrEmpty(model.GetValue<string>()))
        {
            return (null, false, OpenAiError.InvalidRequest("'model' is a required property and must be a non-empty string.", "model"));
        }

        List<string>? inputs = body["input"] switch
        {
            JsonValue single when single.GetValueKind() == JsonValueKind.String => [single.GetValue<string>()],
            JsonArray many when many.Count is > 0 and <= MaxInputs && many.All(i => i is JsonValue v && v.GetValueKind() == JsonValueKind.String) =>
                many.Select(i => i!.GetValue<string>()).ToList(),
            _ => null,
        };
        if (inputs is null || inputs.Any(string.IsNullOrEmpty))
        {
            return (null, false, OpenAiError.InvalidRequest($"'input' must be a non-empty string or an array of 1 to {MaxInputs} non-empty strings.", "input"));
        }

        int? dimensions = null;
        if (body["dimensions"] is { } d)
        {
            if (d is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !value.TryGetValue<int>(out var n) || n is < 1 or > 4096)
            {
                return (null, false, OpenAiError.InvalidRequest("'dimensions' must be an integer from 1 to 4096.", "dimensions"));
            }

            dimensions = n;
        }

        var format = body["encoding_format"]?.GetValueKind() == JsonValueKind.String ? body["encoding_format"]!.GetValue<string>() : body["encoding_format"] is null ? "float" : null;
        if (format is not ("float" or "base64"))
        {
            return (null, false, OpenAiError.InvalidRequest("'encoding_format' must be 'float' or 'base64'.", "encoding_format"));
        }

        return (new EmbeddingRequest(model.GetValue<string>(), inputs, dimensions, body), format == "base64", null);
    }
}
