using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs.Steps;

/// <summary>
/// Tool steps through the tool service with the run's key. The tool service runs a call once per idempotency key and
/// answers a repeat with what it recorded, so a step replayed after a crash never repeats a side effect; a call that
/// needs approval answers 202 and is asked again, with the same key, once the decision is made.
/// </summary>
public sealed class ToolCalls(IHttpClientFactory clients)
{
    public const string ClientName = "tool-steps";

    public async Task<StepOutcome> InvokeAsync(string runKey, string tool, JsonObject arguments, string idempotencyKey, Guid runId, string stepId,
        CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/tools/{Uri.EscapeDataString(tool)}/invocations")
        {
            Content = JsonContent.Create(new { arguments, idempotencyKey, runId = runId.ToString(), stepId }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", runKey);

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return new StepOutcome.Transient($"The tool service did not answer: {e.Message}", TimeSpan.FromSeconds(1));
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted)
            {
                return Read(JsonNode.Parse(body));
            }

            var reason = ServiceAnswers.Describe(response.StatusCode, body);
            return ServiceAnswers.IsTransient(response.StatusCode)
                ? new StepOutcome.Transient(reason, ServiceAnswers.RetryAfter(response))
                : new StepOutcome.Failed($"The tool service refused the call to {tool}: {reason}") { Retryable = ServiceAnswers.IsRetryable(body) };
        }
    }

    /// <summary>
    /// The tools a react turn offers the model, as the tool service describes them for OpenAI function calling: the
    /// agent's <paramref name="allowed"/> tools, or every tool the run's key may call when the agent names none.
    /// </summary>
    public async Task<(JsonArray? Functions, StepOutcome.Transient? Unavailable)> FunctionsAsync(string runKey, IReadOnlyCollection<string> allowed,
        CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/tools?format=openai");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", runKey);
        try
        {
            using var response = await client.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (null, new StepOutcome.Transient(ServiceAnswers.Describe(response.StatusCode, body), ServiceAnswers.RetryAfter(response)));
            }

            var offered = allowed.Select(FunctionName).ToHashSet(StringComparer.Ordinal);
            var functions = JsonNode.Parse(body)!.AsArray()
                .Where(f => offered.Count == 0 || offered.Contains(f?["function"]?["name"]?.GetValue<string>() ?? ""));
            return (new JsonArray([.. functions.Select(f => f!.DeepClone())]), null);
        }
        catch (HttpRequestException e)
        {
            return (null, new StepOutcome.Transient($"The tool service did not answer: {e.Message}", TimeSpan.FromSeconds(1)));
        }
    }

    /// <summary>The tool service names functions with <c>__</c> for each <c>.</c> of a tool name, which OpenAI's names cannot hold.</summary>
    public static string FunctionName(string tool) => tool.Replace(".", "__", StringComparison.Ordinal);

    public static string ToolName(string function) => function.Replace("__", ".", StringComparison.Ordinal);

    private static StepOutcome Read(JsonNode? invocation)
    {
        var id = Guid.TryParse(invocation?["id"]?.GetValue<string>(), out var parsed) ? parsed : (Guid?)null;
        var error = invocation?["error"]?.GetValue<string>();
        return invocation?["status"]?.GetValue<string>() switch
        {
            "succeeded" => new StepOutcome.Succeeded(invocation["result"]?.DeepClone(), InvocationId: id),
            "pending_approval" when id is { } waiting => new StepOutcome.Parked(waiting),
            "running" => new StepOutcome.Transient("The same call is running elsewhere", TimeSpan.FromMilliseconds(500)),
            "denied" => new StepOutcome.Failed($"The call was denied: {error ?? "no reason given"}", id, Final: true),
            "expired" => new StepOutcome.Failed("The call's approval expired undecided.", id, Final: true),
            "unknown" => new StepOutcome.Failed($"The call's outcome is unknown (it may have run): {error}", id, Final: true),
            "failed" => new StepOutcome.Failed($"The tool failed: {error}", id) { Retryable = invocation["retryable"]?.GetValueKind() != JsonValueKind.False },
            var status => new StepOutcome.Failed($"The tool service answered an invocation in state '{status}'.", id),
        };
    }
}
