using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Model.Ledger;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;

namespace Platform.Model.Apis;

public static class UsageApi
{
    private const int MaxSpanDays = 731;
    private static readonly DateOnly Earliest = new(2000, 1, 1);
    private static readonly DateOnly Latest = new(2100, 1, 1);

    public static IEndpointRouteBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/usage", GetUsage).WithTags("Usage").RequireScope(Scopes.Admin);
        app.MapGet("/v1/usage/tenants", GetSpendByTenant).WithTags("Usage").RequireScope(Scopes.Admin);
        return app;
    }

    /// <summary>The tenant's usage by day (UTC), model and key between <c>from</c> and <c>to</c> (inclusive dates).</summary>
    public static async Task<Results<Ok<UsageListDto>, ValidationProblem>> GetUsage(HttpContext context, UsageStore usage, TimeProvider time, DateOnly? from, DateOnly? to)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var (first, last) = (from ?? today.AddDays(-29), to ?? today);
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, date) in new[] { ("from", first), ("to", last) })
        {
            if (date < Earliest || date > Latest)
            {
                errors[field] = [$"'{field}' is a date from {Earliest:yyyy-MM-dd} to {Latest:yyyy-MM-dd}."];
            }
        }

        if (errors.Count == 0 && (last < first || last.DayNumber - first.DayNumber > MaxSpanDays))
        {
            errors["to"] = [$"'to' is on or after 'from', at most {MaxSpanDays} days later."];
        }

        if (errors.Count > 0)
        {
            return ValidationProblems.For(errors);
        }

        var rows = await usage.AggregateAsync(context.User.TenantId(),
            first.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), last.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
        return TypedResults.Ok(new UsageListDto("list", rows.ToArray()));
    }

    /// <summary>A platform admin's view of one UTC day (today by default): each tenant's spend against its daily budget.</summary>
    public static async Task<Results<Ok<TenantSpendListDto>, ValidationProblem, ForbidHttpResult>> GetSpendByTenant(
        HttpContext context, UsageStore usage, TimeProvider time, DateOnly? date)
    {
        if (!context.User.IsPlatformAdmin())
        {
            return TypedResults.Forbid();
        }

        var day = date ?? DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        if (day < Earliest || day > Latest)
        {
            return ValidationProblems.For("date", $"'date' is a date from {Earliest:yyyy-MM-dd} to {Latest:yyyy-MM-dd}.");
        }

        var rows = await usage.SpendByTenantAsync(day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc), day.AddDays(1).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc));
        return TypedResults.Ok(new TenantSpendListDto("list", day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), rows.ToArray()));
    }
}

public sealed record UsageListDto([property: System.Text.Json.Serialization.JsonPropertyName("object")] string Object, UsageRow[] Data);

public sealed record TenantSpendListDto([property: System.Text.Json.Serialization.JsonPropertyName("object")] string Object, string Date, TenantSpendRow[] Data);
