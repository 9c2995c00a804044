using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Planning.Planner;
using Platform.Planning.Plans;

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

    /// <summary>The gateway's limit less the suffix naming each planner attempt's call (<c>:planner:N</c>).</summary>
    public const int MaxIdempotencyKeyLength = 200;

    /// <summary>The request's <c>Idempotency-Key</c>, none when absent, or the problem with it.</summary>
    public static (string? Key, ValidationProblem? Problem) IdempotencyKey(HttpContext context)
    {
        var values = context.Request.Headers["Idempotency-Key"];
        return values.Count == 0 ? (null, null)
            : values is [{ Length: > 0 and <= MaxIdempotencyKeyLength } key] && key.All(c => c is >= ' ' and <= '~') ? (key, null)
            : (null, TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["Idempotency-Key"] = [$"One header of 1 to {MaxIdempotencyKeyLength} printable ASCII characters."],
            }));
    }

    /// <summary>A plan or revision a repeated key answers: 200 and <c>Idempotent-Replayed</c>, not the 201 that made it.</summary>
    public static Ok<PlanDto> Replayed(PlanDto plan, HttpContext context)
    {
        context.Response.Headers["Idempotent-Replayed"] = "true";
        return TypedResults.Ok(plan);
    }

    public static ValidationProblem AsValidationProblem(this PlanningProblem problem) =>
        TypedResults.ValidationProblem(problem.Errors!, problem.Message, title: problem.Title);

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
