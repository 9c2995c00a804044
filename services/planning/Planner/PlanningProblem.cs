namespace Platform.Planning.Planner;

/// <summary>
/// Why a plan could not be made, as the API answers it: a validation problem (400 with the fields), or another status
/// with a detail, the field at fault, the reasons per field (422), and the <c>Retry-After</c> a refusal carries.
/// </summary>
public sealed class PlanningProblem(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;

    public string Title { get; } = title;

    public string? Field { get; init; }

    public IDictionary<string, string[]>? Errors { get; init; }

    public TimeSpan? RetryAfter { get; init; }

    public int? Attempts { get; init; }

    public static PlanningProblem Invalid(IDictionary<string, string[]> errors) =>
        new(StatusCodes.Status400BadRequest, "Invalid plan", "The plan or the request is not valid; see errors.") { Errors = errors };

    public static PlanningProblem Invalid(string field, string message) => Invalid(new Dictionary<string, string[]> { [field] = [message] });

    public static PlanningProblem NotFound() =>
        new(StatusCodes.Status404NotFound, "Not Found", "Nothing is found at this path, or it is not visible to this API key.");
}
