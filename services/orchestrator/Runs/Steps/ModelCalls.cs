using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

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
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
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

        return await SendAsync(runKey, body, idempotencyKey, runId, stepId, cancellationToken);
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
        return SendAsync(runKey, body, idempotencyKey, runId, stepId, cancellationToken);
    }

    private static JsonObject JsonSchemaFormat(string name, JsonNode schema) => new()
    {
        ["type"] = "json_schema",
        ["json_schema"] = new JsonObject { ["name"] = name, ["schema"] = schema },
    };

    private async Task<StepOutcome> SendAsync(string runKey, JsonObject body, string idempotencyKey, Guid runId, string stepId, CancellationToken cancellationToken)
    {
        var model = body["model"]!.GetValue<string>();
        using var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", runKey);
        request.Headers.Add("Idempotency-Key", idempotencyKey);

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return new StepOutcome.Transient($"The model gateway did not answer: {e.Message}", TimeSpan.FromSeconds(1));
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var refusal = await response.Content.ReadAsStringAsync(cancellationToken);
                var reason = ServiceAnswers.Describe(response.StatusCode, refusal);
                if (refusal.Contains("insufficient_quota", StringComparison.Ordinal))
                {
                    // A spent budget does not come back within a run's patience: waiting for the next day would only hold a worker.
                    return new StepOutcome.Failed($"The tenant's model budget is spent: {reason}", Final: true);
                }

                if (refusal.Contains("\"upstream_error\"", StringComparison.Ordinal) || refusal.Contains("\"upstream_timeout\"", StringComparison.Ordinal))
                {
                    // The gateway tried every deployment of the alias: the model itself is down, which the agent's fallback model is for.
                    return new StepOutcome.Failed($"The model '{model}' could not answer: {reason}", ModelUnavailable: true);
                }

                return ServiceAnswers.IsTransient(response.StatusCode) || refusal.Contains("idempotency_key_in_use", StringComparison.Ordinal)
                    ? new StepOutcome.Transient(reason, ServiceAnswers.RetryAfter(response))
                    : new StepOutcome.Failed($"The model gateway refused the call: {reason}");
            }

            try
            {
                return response.Content.Headers.ContentType?.MediaType == "text/event-stream"
                    ? await ReadStreamAsync(response, runId, stepId, cancellationToken)
                    : Read(JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)));
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
                return new StepOutcome.Transient($"The model gateway's answer broke off: {e.Message}", TimeSpan.FromSeconds(1));
            }
        }
    }

    private async Task<StepOutcome> ReadStreamAsync(HttpResponseMessage response, Guid runId, string stepId, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var unsent = new StringBuilder();
        var lastSent = Stopwatch.GetTimestamp();
        var calls = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>();
        JsonNode? usage = null;
        string? finish = null;
        string? failure = null;
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line[5..].Trim();
            if (data == "[DONE]")
            {
                break;
            }

            var chunk = JsonNode.Parse(data);
            if (chunk?["error"] is { } error)
            {
                failure = error["message"]?.GetValue<string>() ?? "the stream failed";
                continue;
            }

            usage = chunk?["usage"] is JsonObject u ? u : usage;
            if (chunk?["choices"] is JsonArray { Count: > 0 } choices)
            {
                finish = choices[0]?["finish_reason"]?.GetValue<string>() ?? finish;
                if (choices[0]?["delta"]?["content"]?.GetValue<string>() is { Length: > 0 } delta)
                {
                    text.Append(delta);
                    unsent.Append(delta);
                    if (Stopwatch.GetElapsedTime(lastSent) >= DeltaInterval)
                    {
                        await signals.DeltaAsync(runId, stepId, unsent.ToString());
                        (unsent, lastSent) = (unsent.Clear(), Stopwatch.GetTimestamp());
                    }
                }

                foreach (var call in choices[0]?["delta"]?["tool_calls"] as JsonArray ?? [])
                {
                    var index = call?["index"]?.GetValue<int>() ?? 0;
                    var (id, name, arguments) = calls.GetValueOrDefault(index, (null, null, new StringBuilder()));
                    arguments.Append(call?["function"]?["arguments"]?.GetValue<string>());
                    calls[index] = (call?["id"]?.GetValue<string>() ?? id, call?["function"]?["name"]?.GetValue<string>() ?? name, arguments);
                }
            }
        }

        if (unsent.Length > 0)
        {
            await signals.DeltaAsync(runId, stepId, unsent.ToString());
        }

        if (failure is not null)
        {
            return new StepOutcome.Transient($"The model call failed mid-stream: {failure}", TimeSpan.FromSeconds(1));
        }

        return finish is null
            ? new StepOutcome.Transient("The model gateway's stream ended without a finish", TimeSpan.FromSeconds(1))
            : Answer(text.ToString(), [.. calls.Values.Select(c => (c.Id ?? "", c.Name ?? "", c.Arguments.ToString()))], usage);
    }

    private static StepOutcome Read(JsonNode? completion)
    {
        var message = completion?["choices"]?[0]?["message"];
        return message is null
            ? new StepOutcome.Failed("The model gateway's answer is not a chat completion.")
            : Answer(message["content"]?.GetValue<string>() ?? "",
                [.. (message["tool_calls"] as JsonArray ?? []).Select(c => (
                    c?["id"]?.GetValue<string>() ?? "", c?["function"]?["name"]?.GetValue<string>() ?? "", c?["function"]?["arguments"]?.GetValue<string>() ?? ""))],
                completion?["usage"]);
    }

    private static StepOutcome.Succeeded Answer(string text, List<(string Id, string Name, string Arguments)> toolCalls, JsonNode? usage) => new(
        toolCalls.Count == 0
            ? JsonValue.Create(Bounded(text))
            : new JsonObject
            {
                ["content"] = Bounded(text),
                ["toolCalls"] = new JsonArray([.. toolCalls.Select(c => new JsonObject { ["id"] = c.Id, ["name"] = c.Name, ["arguments"] = c.Arguments })]),
            },
        usage?["cost_usd"] is JsonValue cost ? decimal.Parse(cost.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture) : 0,
        usage?["prompt_tokens"]?.GetValue<int>() ?? 0,
        usage?["completion_tokens"]?.GetValue<int>() ?? 0);

    private static string Bounded(string text) => text.Length <= MaxAnswerChars ? text : text[..MaxAnswerChars];
}
