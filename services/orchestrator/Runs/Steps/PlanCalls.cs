using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Platform.Orchestrator.Runs.Steps;

/// <summary>A plan for a run's goal from the planning service, made with the run's key (its model calls are the run's).</summary>
public sealed class PlanCalls(IHttpClientFactory clients)
{
    public const string ClientName = "planning-steps";

    /// <summary>The planning service reads this much context; the steps still see the whole input.</summary>
    private const int MaxContext = 16_000;

    public sealed record Plan(Guid Id, int Revision, IReadOnlyList<NewStep> Steps);

    public abstract record Outcome
    {
        public sealed record Made(Plan Plan) : Outcome;

        public sealed record Refused(string Reason) : Outcome;

        /// <summary>Asked again later; <paramref name="ModelUnavailable"/> when the planner's model could not answer.</summary>
        public sealed record Transient(string Reason, TimeSpan RetryAfter, bool ModelUnavailable = false) : Outcome;
    }

    /// <summary>
    /// The run's plan, asked for under a key naming the run and the model: a replica resuming the run gets the plan
    /// already made, and the planner's gateway calls are not paid twice.
    /// </summary>
    public Task<Outcome> PlanAsync(string runKey, RunRow run, RunAgent agent, string model, CancellationToken cancellationToken) =>
        SendAsync(runKey, "/v1/plans", $"run:{run.Id}:plan:{model}", new
        {
            goal = run.Goal,
            context = Context(run, agent),
            tools = agent.Tools,
            model,
            constraints = new { maxSteps = agent.MaxSteps, budgetUsd = agent.BudgetUsd },
        }, agent, cancellationToken);

    /// <summary>
    /// A new revision of the run's plan around <paramref name="failed"/>: the succeeded steps stay as they ran, the
    /// planner sees why the failed one failed.
    /// </summary>
    public Task<Outcome> ReviseAsync(string runKey, RunRow run, RunAgent agent, IEnumerable<StepRow> succeeded, StepRow failed, CancellationToken cancellationToken) =>
        SendAsync(runKey, $"/v1/plans/{run.PlanId}/revisions", $"run:{run.Id}:replan:{run.Replans + 1}", new
        {
            revision = run.PlanRevision,
            completed = succeeded.Select(s => new { stepId = s.Id, output = JsonNode.Parse(s.Output ?? "null") }),
            failed = new { stepId = failed.Id, observation = failed.Error },
        }, agent, cancellationToken);

    private async Task<Outcome> SendAsync(string runKey, string path, string idempotencyKey, object body, RunAgent agent, CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", runKey);
        request.Headers.Add("Idempotency-Key", idempotencyKey);

        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            return new Outcome.Transient($"The planning service did not answer: {e.Message}", TimeSpan.FromSeconds(1));
        }

        using (response)
        {
            var answer = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var reason = ServiceAnswers.Describe(response.StatusCode, answer);
                return ServiceAnswers.IsTransient(response.StatusCode)
                    ? new Outcome.Transient(reason, ServiceAnswers.RetryAfter(response),
                        response.StatusCode == HttpStatusCode.BadGateway && answer.Contains("\"Model gateway failed\"", StringComparison.Ordinal))
                    : new Outcome.Refused($"No plan could be made: {reason}");
            }

            var plan = JsonNode.Parse(answer)!;
            var steps = plan["steps"]!.AsArray().Select((step, position) =>
            {
                var tool = step!["tool"]?.GetValue<string>();
                return new NewStep(
                    step["id"]!.GetValue<string>(),
                    position,
                    step["kind"]!.GetValue<string>(),
                    step["title"]!.GetValue<string>(),
                    step["instruction"]?.GetValue<string>() ?? "",
                    tool,
                    step["arguments"] as JsonObject is { } arguments ? (JsonObject)arguments.DeepClone() : null,
                    [.. step["dependsOn"]!.AsArray().Select(d => d!.GetValue<string>())],
                    step["acceptance"]?.GetValue<string>(),
                    tool is not null && agent.Compensations.TryGetValue(tool, out var undo)
                        ? new JsonObject { ["tool"] = undo.Tool, ["arguments"] = undo.Arguments.DeepClone() }
                        : null);
            }).ToList();
            return new Outcome.Made(new Plan(Guid.Parse(plan["id"]!.GetValue<string>()), plan["revision"]!.GetValue<int>(), steps));
        }
    }

    /// <summary>The agent's instructions and the run's input, which the planner reads beside the goal.</summary>
    private static string? Context(RunRow run, RunAgent agent)
    {
        var parts = new List<string>();
        if (agent.Instructions.Length > 0)
        {
            parts.Add($"Agent instructions: {agent.Instructions}");
        }

        if (run.Input is { } input)
        {
            parts.Add($"Input: {input}");
        }

        var context = string.Join("\n\n", parts);
        if (parts.Count == 0)
        {
            return null;
        }

        if (context.Length <= MaxContext)
        {
            return context;
        }

        // Never cut between the halves of a surrogate pair: a lone half is refused as text that cannot be stored.
        var cut = char.IsHighSurrogate(context[MaxContext - 2]) ? MaxContext - 2 : MaxContext - 1;
        return context[..cut] + "…";
    }
}
