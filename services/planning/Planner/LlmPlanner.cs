using Platform.Planning.Plans;
using Platform.ServiceDefaults.Http;

namespace Platform.Planning.Planner;

/// <summary>
/// Plans through the model gateway: asks for a plan in the <c>platform_plan</c> schema, validates the answer as any
/// plan is validated (repairing what has one safe reading), and on a refused answer asks again with the reasons, at
/// most <see cref="MaxAttempts"/> times in all. Nothing is kept from a refused answer.
/// </summary>
public sealed class LlmPlanner(ModelGateway gateway, PlanBuilder builder)
{
    public const int MaxAttempts = 3;

    public async Task<(BuiltPlan Plan, PlannerInfo Planner)> PlanAsync(PlanningJob job, PlanInputs inputs, GatewayClock clock, CancellationToken cancellationToken)
    {
        var messages = new List<(string Role, string Content)> { ("system", PlannerPrompt.System), ("user", PlannerPrompt.Document(job)) };
        var (promptTokens, completionTokens) = (0, 0);
        var errors = new ErrorList();
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            var gatewayKey = job.IdempotencyKey is { } key ? IdempotencyKeys.Derive(key, $"planner:{attempt}") : null;
            var answer = await clock.TimeAsync(gateway.CompleteAsync(PlannerPrompt.Request(job, messages), gatewayKey, cancellationToken));
            promptTokens += answer.PromptTokens;
            completionTokens += answer.CompletionTokens;
            (var steps, errors) = PlannerAnswer.Read(answer, inputs.MaxSteps);
            if (errors.Count == 0)
            {
                (var plan, errors) = await builder.BuildAsync(steps, inputs, repair: true);
                if (plan is not null)
                {
                    return (plan, new PlannerInfo("llm", job.Model, attempt, promptTokens, completionTokens, plan.Repairs.Length > 0 ? plan.Repairs : null));
                }
            }

            messages.Add(("assistant", PlannerPrompt.Echo(answer.Content)));
            messages.Add(("user", PlannerPrompt.Retry(errors)));
        }

        throw new PlanningProblem(StatusCodes.Status422UnprocessableEntity, "No valid plan",
            $"The planner's answer was refused {MaxAttempts} times; errors holds the reasons the last answer was refused.")
        {
            Errors = errors.ToDictionary(),
            Attempts = MaxAttempts,
        };
    }
}
