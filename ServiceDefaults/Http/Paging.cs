using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Platform.ServiceDefaults.Http;

/// <summary>
/// The one paging rule of every list endpoint: <c>limit</c> is 1 to <see cref="MaxLimit"/>, refused with the same
/// problem+json everywhere, and a page is read by the cursor each endpoint documents (<c>after</c>, <c>before</c>).
/// </summary>
public static class Paging
{
    public const int MaxLimit = 200;
    public const int DefaultLimit = 50;

    public static readonly string LimitRule = $"The limit is 1 to {MaxLimit}.";

    /// <summary>The page size <paramref name="limit"/> asks for, <paramref name="defaultLimit"/> without one, or the problem with it.</summary>
    public static bool TryTake(int? limit, out int take, [NotNullWhen(false)] out ValidationProblem? problem, int defaultLimit = DefaultLimit)
    {
        take = limit ?? defaultLimit;
        problem = take is < 1 or > MaxLimit ? ValidationProblems.For("limit", LimitRule) : null;
        return problem is null;
    }
}
