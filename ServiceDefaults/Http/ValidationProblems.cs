using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// The one shape of refused input on every problem+json API: a 400 whose <c>errors</c> maps each field (a body
/// property, a query parameter, a header) to what it must be. Clients, the dashboard among them, read that map.
/// </summary>
public static class ValidationProblems
{
    public static ValidationProblem For(string field, string rule) => For(new Dictionary<string, string[]> { [field] = [rule] });

    public static ValidationProblem For(IDictionary<string, string[]> errors, string? detail = null, string? title = null) =>
        TypedResults.ValidationProblem(errors, detail, title: title);
}
