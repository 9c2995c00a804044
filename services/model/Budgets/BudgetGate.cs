using StackExchange.Redis;

namespace Platform.Model.Budgets;

/// <summary>
/// Enforces budgets and rate limits atomically across replicas with one Redis script per step: a request reserves its
/// worst-case cost and tokens before the upstream call (refused if any limit would be passed), settles its actual
/// cost after, and releases its reservation on failure. Concurrent requests can therefore never overrun a budget.
/// Money is counted in micro-dollars so Redis integers hold it exactly.
/// </summary>
public sealed class BudgetGate(IConnectionMultiplexer redis, BudgetStore budgets, TimeProvider time)
{
    // KEYS: tenant day, tenant month, key day, key month (micro-USD); key rpm, key tpm (per minute).
    // ARGV: six limits (-1 = none), the cost to reserve, tokens to reserve, and the six expiries in seconds.
    private const string ReserveScript = """
        local add = { tonumber(ARGV[7]), tonumber(ARGV[7]), tonumber(ARGV[7]), tonumber(ARGV[7]), 1, tonumber(ARGV[8]) }
        for i = 1, 6 do
          local limit = tonumber(ARGV[i])
          if limit >= 0 then
            local current = tonumber(redis.call('GET', KEYS[i]) or '0')
            if current + add[i] > limit then
              return i
            end
          end
        end
        for i = 1, 6 do
          if tonumber(ARGV[i]) >= 0 then
            redis.call('INCRBY', KEYS[i], add[i])
            redis.call('EXPIRE', KEYS[i], tonumber(ARGV[8 + i]))
          end
        end
        return 0
        """;

    // KEYS as above; ARGV: the six limits (only limited counters were reserved), the cost delta, the token delta.
    private const string SettleScript = """
        local add = { tonumber(ARGV[7]), tonumber(ARGV[7]), tonumber(ARGV[7]), tonumber(ARGV[7]), 0, tonumber(ARGV[8]) }
        for i = 1, 6 do
          if tonumber(ARGV[i]) >= 0 and add[i] ~= 0 and redis.call('EXISTS', KEYS[i]) == 1 then
            redis.call('INCRBY', KEYS[i], add[i])
          end
        end
        return 0
        """;

    private static readonly string[] Reasons = ["tenant daily budget", "tenant monthly budget", "key daily budget", "key monthly budget",
        "key requests per minute", "key tokens per minute"];

    public async Task<Reservation> ReserveAsync(string tenantId, string keyId, decimal worstCaseUsd, int worstCaseTokens)
    {
        var (tenant, key) = await budgets.LimitsForAsync(tenantId, keyId);
        var now = time.GetUtcNow();
        var counters = Counters(tenantId, keyId, now);
        long[] limits =
        [
            Micro(tenant.DailyUsd), Micro(tenant.MonthlyUsd), Micro(key.DailyUsd), Micro(key.MonthlyUsd),
            key.Rpm ?? -1, key.Tpm ?? -1,
        ];
        var reservation = new Reservation(counters, limits, Micro(worstCaseUsd), worstCaseTokens, now);
        if (limits.All(l => l < 0))
        {
            return reservation;
        }

        var untilDayEnds = (long)(now.UtcDateTime.Date.AddDays(1) - now.UtcDateTime).TotalSeconds + 60;
        var untilMonthEnds = (long)(new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1) - now.UtcDateTime).TotalSeconds + 60;
        RedisValue[] arguments =
        [
            .. limits.Select(l => (RedisValue)l), reservation.MicroUsd, worstCaseTokens,
            untilDayEnds, untilMonthEnds, untilDayEnds, untilMonthEnds, 120, 120,
        ];
        var refused = (int)await redis.GetDatabase().ScriptEvaluateAsync(ReserveScript, counters, arguments);
        return refused == 0 ? reservation : reservation with { Refusal = refused };
    }

    /// <summary>
    /// Replaces the reservation by what the request really cost (zero when it failed). Sent without waiting for the
    /// reply: Redis runs it before any later command on the connection, and if it is lost the reservation simply stands,
    /// which can only under-spend a budget, never overrun it.
    /// </summary>
    public Task SettleAsync(Reservation reservation, decimal actualUsd, int actualTokens)
    {
        if (!reservation.Granted || reservation.Limits.All(l => l < 0))
        {
            return Task.CompletedTask;
        }

        RedisValue[] arguments =
        [
            .. reservation.Limits.Select(l => (RedisValue)l), Micro(actualUsd) - reservation.MicroUsd, actualTokens - reservation.Tokens,
        ];
        return redis.GetDatabase().ScriptEvaluateAsync(SettleScript, reservation.Counters, arguments, CommandFlags.FireAndForget);
    }

    public static string Describe(Reservation reservation) => Reasons[reservation.Refusal!.Value - 1];

    /// <summary>When the refused limit's window resets.</summary>
    public static TimeSpan RetryAfter(Reservation reservation)
    {
        var now = reservation.At.UtcDateTime;
        return reservation.Refusal switch
        {
            1 or 3 => now.Date.AddDays(1) - now,
            2 or 4 => new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1) - now,
            _ => TimeSpan.FromSeconds(60 - now.Second),
        };
    }

    private static RedisKey[] Counters(string tenantId, string keyId, DateTimeOffset now)
    {
        var day = now.ToString("yyyyMMdd", System.Globalization.CultureInfo.InvariantCulture);
        var month = now.ToString("yyyyMM", System.Globalization.CultureInfo.InvariantCulture);
        var minute = now.ToUnixTimeSeconds() / 60;
        return
        [
            $"model:spend:{tenantId}::day:{day}", $"model:spend:{tenantId}::month:{month}",
            $"model:spend:{tenantId}:{keyId}:day:{day}", $"model:spend:{tenantId}:{keyId}:month:{month}",
            $"model:rpm:{tenantId}:{keyId}:{minute}", $"model:tpm:{tenantId}:{keyId}:{minute}",
        ];
    }

    private static long Micro(decimal? usd) => usd is { } value ? (long)Math.Ceiling(value * 1_000_000m) : -1;
}

/// <summary>What a request holds against its limits until it settles.</summary>
public sealed record Reservation(RedisKey[] Counters, long[] Limits, long MicroUsd, int Tokens, DateTimeOffset At, int? Refusal = null)
{
    public bool Granted => Refusal is null;

    /// <summary>Budgets rather than request or token rates: OpenAI calls this <c>insufficient_quota</c>.</summary>
    public bool IsBudget => Refusal is >= 1 and <= 4;
}
