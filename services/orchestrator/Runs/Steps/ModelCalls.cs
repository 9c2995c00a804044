using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Gateway.Client;

namespace Platform.Orchestrator.Runs.Steps;

/// <summary>
/// Model steps through the gateway with the run's key (the tenant's budgets, limits and ledger apply), streamed so
/// token deltas reach the run's watchers live. The idempotency key names the run, step and attempt: a replica
/// resuming a step after a crash repeats the call with the same key and gets the recorded answer, unpaid.
/// </summary>
public sealed class ModelCalls(IHttpClientFactory clients, RunSignals signals)
{
    public const string ClientName = "model-steps";

    /// <summary>
    /// Token deltas reach watchers at most this often, several tokens to a message: live to a reader, and a fast model
    /// does not cost a Redis message per token.
    /// </summary>
    private static readonly TimeSpan DeltaInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The most of a model's answer kept as a step's output.</summary>
    private const int MaxAnswerChars = 256 * 1024;

    /// <summary>
    /// With <paramref name="outputSchema"/>, the answer is asked for as JSON valid against it (the run's final output).
    /// With <paramref name="tools"/> (OpenAI function tools) the model may call them: the output is then
    /// <c>{"content": …, "toolCalls": [{"id", "name", "arguments"}]}</c> rather than the answer's text.
    /// </summary>
    public async Task<StepOutcome> CompleteAsync(string runKey, string model, JsonArray messages, JsonElement? outputSchema, string idempotencyKey,
        Guid runId, string stepId, CancellationToken cancellationToken, JsonArray? tools = null, string? toolChoice = null)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = messages,
        };
        if (tools is { Count: > 0 })
        {
            body["tools"] = tools;
            body["tool_choice"] = toolChoice ?? "auto";
        }

        if (outputSchema is { } schema)
        {
            body["response_format"] = JsonSchemaFormat("run_output", JsonNode.Parse(schema.GetRawText())!);
        }

        return await SendAsync(runKey, body, stream: true, idempotencyKey, runId, stepId, cancellationToken);
    }

    /// <summary>
    /// Asks <paramref name="model"/> whether <paramref name="answer"/> meets <paramref name="criterion"/>; the output
    /// is <c>{"verdict": "pass" | "fail", "reason": …}</c>.
    /// </summary>
    public Task<StepOutcome> JudgeAsync(string runKey, string model, string criterion, string answer, string idempotencyKey, Guid runId, string stepId,
        CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(
                new JsonObject
                {
                    ["role"] = "system",
                    ["content"] = "You check whether an answer meets its acceptance criterion. Judge strictly, and say why in one sentence.",
                },
                new JsonObject { ["role"] = "user", ["content"] = $"Criterion: {criterion}\n\nAnswer:\n{answer}" }),
            ["response_format"] = JsonSchemaFormat("acceptance_verdict", new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["verdict"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("pass", "fail") },
                    ["reason"] = new JsonObject { ["type"] = "string" },
                },
                ["required"] = new JsonArray("verdict", "reason"),
                ["additionalProperties"] = false,
            }),
        };
        return SendAsync(runKey, body, stream: false, idempotencyKey, runId, stepId, cancellationToken);
    }

    private static JsonObject JsonSchemaFormat(string name, JsonNode schema) => new()
    {
        ["type"] = "json_schema",
        ["json_schema"] = new JsonObject { ["name"] = name, ["schema"] = schema },
    };

    /// <summary>Streamed, the answer's text reaches the run's watchers as it comes; a verdict is read whole.</summary>
    private async Task<StepOutcome> SendAsync(string runKey, JsonObject body, bool stream, string idempotencyKey, Guid runId, string stepId,
        CancellationToken cancellationToken)
    {
        var model = body["model"]!.GetValue<string>();
        using var client = clients.CreateClient(ClientName);
        var gateway = new GatewayClient(client);
        var call = new GatewayCall(runKey, idempotencyKey);
        var unsent = new StringBuilder();
        var lastSent = Stopwatch.GetTimestamp();
        try
        {
            return Answer(!stream ? await gateway.CompleteAsync(body, call, cancellationToken) : await gateway.StreamAsync(body, call, async delta =>
            {
                unsent.Append(delta);
                if (Stopwatch.GetElapsedTime(lastSent) >= DeltaInterval)
                {
                    await signals.DeltaAsync(runId, stepId, unsent.ToString());
                    (unsent, lastSent) = (unsent.Clear(), Stopwatch.GetTimestamp());
                }
            }, cancellationToken));
        }
        catch (GatewayException e) when (e.Failure == GatewayFailure.Refused)
        {
            var reason = $"{e.Status}: {e.Message}";
            if (e.Code == "insufficient_quota" || e.Type == "insufficient_quota")
            {
                // A spent budget does not come back within a run's patience: waiting for the next day would only hold a worker.
                return new StepOutcome.Failed($"The tenant's model budget is spent: {reason}", Final: true);
            }

            if (e.Code is "upstream_error" or "upstream_timeout")
            {
                // The gateway tried every deployment of the alias: the model itself is down, which the agent's fallback model is for.
                return new StepOutcome.Failed($"The model '{model}' could not answer: {reason}", ModelUnavailable: true);
            }

            return ServiceAnswers.IsTransient((HttpStatusCode)e.Status!.Value) || e.Code == "idempotency_key_in_use"
                ? new StepOutcome.Transient(reason, ServiceAnswers.RetryAfter(e.RetryAfter))
                : new StepOutcome.Failed($"The model gateway refused the call: {reason}");
        }
        catch (GatewayException e) when (e.Failure is GatewayFailure.Unreachable or GatewayFailure.BrokeOff)
        {
            return new StepOutcome.Transient(e.Message, TimeSpan.FromSeconds(1));
        }
        catch (GatewayException e)
        {
            return new StepOutcome.Failed(e.Message);
        }
        finally
        {
            if (unsent.Length > 0)
            {
                await signals.DeltaAsync(runId, stepId, unsent.ToString());
            }
        }
    }

    private static StepOutcome.Succeeded Answer(ChatCompletion completion) => new(
        completion.ToolCalls.Count == 0
            ? JsonValue.Create(Bounded(completion.Content))
            : new JsonObject
            {
                ["content"] = Bounded(completion.Content),
                ["toolCalls"] = new JsonArray([.. completion.ToolCalls.Select(c => new JsonObject { ["id"] = c.Id, ["name"] = c.Name, ["arguments"] = c.Arguments })]),
            },
        completion.Usage.CostUsd,
        completion.Usage.PromptTokens,
        completion.Usage.CompletionTokens);

    private static string Bounded(string text) => text.Length <= MaxAnswerChars ? text : text[..MaxAnswerChars];
}
