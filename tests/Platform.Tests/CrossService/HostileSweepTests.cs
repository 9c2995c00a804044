using Platform.Tests.Sweep;
using Platform.TestSupport;
using Xunit.Abstractions;

namespace Platform.Tests.CrossService;

/// <summary>
/// Every endpoint of every service, from its OpenAPI document, against hostile requests: missing and wrong keys,
/// malformed and huge bodies, wrong types, NUL and lone surrogates, traversal and injection in parameters, extreme
/// numbers and dates. A new endpoint is swept without being named here.
/// </summary>
[Collection(PlatformCollection.Name)]
public sealed class HostileSweepTests(PlatformFixture platform, ITestOutputHelper output)
{
    private const int MinimumRequests = 500;
    private const int Listed = 50;

    public static TheoryData<string> Services => new(PlatformApp.Services);

    /// <summary>The dashboard stores nothing: it has no database.</summary>
    public static TheoryData<string> ServicesWithADatabase => new("orchestrator", "planning", "model", "tool");

    [Theory]
    [MemberData(nameof(Services))]
    public async Task EveryServiceIsSweptWithAtLeast500HostileRequests(string service)
    {
        var sweep = await SweepAsync(service);

        Assert.True(sweep.HostileRequests >= MinimumRequests, $"Only {sweep.HostileRequests} hostile requests were sent to {service}.");
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task NoHostileRequestGetsA5xxOrLosesItsConnection(string service)
    {
        var sweep = await SweepAsync(service);

        var failures = sweep.Outcomes.Where(o => o.Failed).Select(o => o.ToString()).ToList();

        Assert.True(failures.Count == 0, Report($"{failures.Count} of {sweep.Outcomes.Count} requests to {service} got a 5xx or lost their connection:", failures));
    }

    [Theory]
    [MemberData(nameof(Services))]
    public async Task EveryErrorIsProblemJsonAndOnOpenAisEndpointsOpenAisShape(string service)
    {
        var sweep = await SweepAsync(service);

        var wrong = sweep.Outcomes.Where(o => o.Shape is not null).Select(o => $"{o.Request} → {o.Status}, {o.Shape}: {o.Excerpt}").ToList();

        Assert.True(wrong.Count == 0, Report($"{wrong.Count} error answers of {service} have the wrong shape:", wrong));
    }

    [Theory]
    [MemberData(nameof(ServicesWithADatabase))]
    public async Task EveryRefusedWriteLeavesNothingStored(string service)
    {
        var sweep = await SweepAsync(service);

        var notRefused = sweep.RefusedWrites.Where(o => o.Status is not (>= 400 and < 500))
            .Select(o => $"{o} (a write that must be refused with a 4xx)");
        var changed = sweep.Before!.Where(t => sweep.After![t.Key] != t.Value)
            .Select(t => $"table {t.Key}: {t.Value} before, {sweep.After![t.Key]} after");
        var problems = changed.Concat(notRefused).ToList();

        Assert.True(problems.Count == 0, Report($"Of {sweep.RefusedWrites.Count} hostile writes to {service} that must be refused:", problems));
    }

    private async Task<SweepResult> SweepAsync(string service)
    {
        var sweep = await ServiceSweep.OfAsync(platform, service);
        output.WriteLine($"{service}: {sweep.HostileRequests} hostile requests ({sweep.RefusedWrites.Count} writes that must be refused), "
            + $"{sweep.Outcomes.Count} requests in all; {string.Join(", ", sweep.Phases.Select(p => $"{p.Phase} {p.Elapsed.TotalSeconds:F1} s"))}.");
        foreach (var phase in sweep.Outcomes.GroupBy(o => o.Phase))
        {
            var statuses = phase.GroupBy(o => o.Status?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no answer").OrderBy(g => g.Key, StringComparer.Ordinal);
            output.WriteLine($"  {phase.Key}: {string.Join(", ", statuses.Select(g => $"{g.Key} × {g.Count()}"))}");
        }

        foreach (var setup in sweep.Outcomes.Where(o => o.Phase == "setup"))
        {
            output.WriteLine($"  setup {setup} ({setup.Elapsed.TotalSeconds:F1} s)");
        }

        foreach (var slow in sweep.Outcomes.OrderByDescending(o => o.Elapsed).Take(10))
        {
            output.WriteLine($"  slow {slow.Request} → {slow.Status} ({slow.Elapsed.TotalSeconds:F1} s)");
        }

        return sweep;
    }

    /// <summary>The first failures for the assertion message; all of them in the test's output.</summary>
    private string Report(string title, IReadOnlyList<string> lines)
    {
        var sorted = lines.Order(StringComparer.Ordinal).ToList();
        output.WriteLine(string.Join(Environment.NewLine, [title, .. sorted]));
        return string.Join(Environment.NewLine, [title, .. sorted.Take(Listed), .. sorted.Count > Listed ? [$"… and {sorted.Count - Listed} more."] : Array.Empty<string>()]);
    }
}
