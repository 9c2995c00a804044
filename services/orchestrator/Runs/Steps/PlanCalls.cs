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

        public sealed record Transient(string Reason, TimeSpan RetryAfter) : Outcome;
    }

    public async Task<Outcome> PlanAsync(string runKey, RunRow run, RunAgent agent, CancellationToken cancellationToken)
    {
        using var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/plans")
        {
            Content = JsonContent.Create(new
            {
                goal = run.Goal,
                context = Context(run, agent),
                tools = agent.Tools,
                model = agent.Model,
                constraints = new { maxSteps = agent.MaxSteps, budgetUsd = agent.BudgetUsd },
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", runKey);

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
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                var reason = ServiceAnswers.Describe(response.StatusCode, body);
                return ServiceAnswers.IsTransient(response.StatusCode)
                    ? new Outcome.Transient(reason, ServiceAnswers.RetryAfter(response))
                    : new Outcome.Refused($"No plan could be made: {reason}");
            }

            var plan = JsonNode.Parse(body)!;
            var steps = plan["steps"]!.AsArray().Select((step, position) => new NewStep(
                step!["id"]!.GetValue<string>(),
                position,
                step["kind"]!.GetValue<string>(),
                step["title"]!.GetValue<string>(),
                step["instruction"]?.GetValue<string>() ?? "",
                step["tool"]?.GetValue<string>(),
                step["arguments"] as JsonObject is { } arguments ? (JsonObject)arguments.DeepClone() : null,
                [.. step["dependsOn"]!.AsArray().Select(d => d!.GetValue<string>())],
                step["acceptance"]?.GetValue<string>())).ToList();
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
