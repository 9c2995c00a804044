using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Planning.Planner;
using Platform.Planning.Plans;
using Platform.ServiceDefaults.Http;

namespace Platform.Planning.Apis;

/// <summary>How the plan-making endpoints answer: problems in the platform's problem+json, and the planner's overhead.</summary>
internal static class PlanningResults
{
    /// <summary>
    /// Starts timing a request; its response carries <c>x-platform-planner-overhead-ms</c>: the time in the planning
    /// service, model gateway completions excluded, like the gateway's own <c>x-platform-overhead-ms</c>.
    /// </summary>
    public static GatewayClock StartClock(HttpContext context)
    {
        var clock = new GatewayClock();
        context.Response.OnStarting(() =>
        {
            context.Response.Headers[GatewayClock.OverheadHeader] = Math.Max(0, clock.Overhead.TotalMilliseconds).ToString("0.###", CultureInfo.InvariantCulture);
            return Task.CompletedTask;
        });
        return clock;
    }

    /// <summary>A plan or revision a repeated key answers: 200 and <c>Idempotent-Replayed</c>, not the 201 that made it.</summary>
    public static Ok<PlanDto> Replayed(PlanDto plan, HttpContext context)
    {
        context.Response.Headers[IdempotencyKeys.ReplayedHeader] = "true";
        return TypedResults.Ok(plan);
    }

    public static ValidationProblem AsValidationProblem(this PlanningProblem problem) => ValidationProblems.For(problem.Errors!, problem.Message, problem.Title);

    public static ProblemHttpResult AsProblem(this PlanningProblem problem, HttpContext context)
    {
        if (problem.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var extensions = new Dictionary<string, object?>();
        if (problem.Field is not null)
        {
            extensions["field"] = problem.Field;
        }

        if (problem.Errors is not null)
        {
            extensions["errors"] = problem.Errors;
        }

        if (problem.Attempts is not null)
        {
            extensions["attempts"] = problem.Attempts;
        }

        return TypedResults.Problem(problem.Message, statusCode: problem.Status, title: problem.Title, extensions: extensions);
    }
}
