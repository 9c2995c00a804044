using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Ledger;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Model.Apis;

public static class UsageApi
{
    private static readonly TimeSpan MaxRange = TimeSpan.FromDays(366);

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/usage", GetUsage).WithTags("Usage").RequireScope(Scopes.Admin);
        return app;
    }

    /// <summary>The tenant's usage by day (UTC), model and key between <c>from</c> and <c>to</c> (inclusive dates).</summary>
    public static async Task<Results<Ok<UsageListDto>, ValidationProblem>> GetUsage(HttpContext context, UsageStore usage, TimeProvider time, DateOnly? from, DateOnly? to)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var (first, last) = (from ?? today.AddDays(-29), to ?? today);
        if (last < first || last.DayNumber - first.DayNumber > MaxRange.TotalDays)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["'from' is on or before 'to', at most 366 days apart."] });
        }

        var rows = await usage.AggregateAsync(context.User.TenantId(),
            first.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), last.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
        return TypedResults.Ok(new UsageListDto("list", rows.ToArray()));
    }
}

public sealed record UsageListDto([property: System.Text.Json.Serialization.JsonPropertyName("object")] string Object, UsageRow[] Data);
