using System.Collections.Concurrent;
using System.Diagnostics;

namespace Platform.Tests.Sweep;

public sealed record SweepResult(
    int HostileRequests,
    IReadOnlyList<Outcome> Outcomes,
    IReadOnlyList<Outcome> RefusedWrites,
    IReadOnlyDictionary<string, string>? Before,
    IReadOnlyDictionary<string, string>? After,
    IReadOnlyList<(string Phase, TimeSpan Elapsed)> Phases);

/// <summary>
/// Sweeps one service, once per platform, for every test that asks. In order: the valid writes (so hostile requests
/// find something to hit); the writes that must be refused, between two snapshots of the database; the other requests
/// side by side; the writes that store a value, one operation at a time, each followed by the calls that use it; a
/// read-back of every GET and working POST; the deletes last.
/// </summary>
public static class ServiceSweep
{
    private static readonly ConcurrentDictionary<(PlatformFixture, string), Lazy<Task<SweepResult>>> Sweeps = new();

    private static readonly Dictionary<string, string> Databases = new()
    {
        ["orchestrator"] = "orchestratordb",
        ["planning"] = "planningdb",
        ["model"] = "modeldb",
        ["tool"] = "tooldb",
    };

    public static Task<SweepResult> OfAsync(PlatformFixture platform, string service) =>
        Sweeps.GetOrAdd((platform, service), key => new(() => RunAsync(key.Item1, key.Item2))).Value;

    private static async Task<SweepResult> RunAsync(PlatformFixture platform, string service)
    {
        var phases = new List<(string, TimeSpan)>();
        var clock = Stopwatch.StartNew();
        void Done(string phase)
        {
            phases.Add((phase, clock.Elapsed));
            clock.Restart();
        }

        var identity = await SweepIdentity.CreateAsync(platform);
        using var runner = new SweepRunner(platform.AppHost.Url(service));
        var operations = (await OpenApiOperations.ReadAsync(runner.Client, service)).Select(o => new HostileRequests(o, identity)).ToList();
        var hostile = operations.SelectMany(o => o.All()).ToList();
        var outcomes = new List<Outcome>();
        Done("preparing");

        static bool Stores(HostileRequest request) => request.Operation.Method is "PUT" or "PATCH";
        var valid = operations.Where(o => o.Operation.Method is "PUT" or "PATCH").ToDictionary(o => o.Operation.Name, o => o.Valid("valid request"));
        async Task RestoreAsync(IEnumerable<HostileRequest> requests)
        {
            foreach (var request in requests)
            {
                outcomes.Add(await runner.SendAsync(request, "setup"));
            }
        }

        await RestoreAsync([.. valid.Values, .. operations.Where(o => o.Operation.Method == "POST").Select(o => o.Valid("valid request"))]);
        // A stored value is used by the service's calls (a chat completion, a tool invocation): the POSTs that work.
        var users = outcomes.Where(o => o.Request.Operation.Method == "POST" && o.Status is >= 200 and < 300 && !SweepSeeds.NeedsPlatformAdmin(o.Request.Operation))
            .Select(o => o.Request with { Case = "read back" }).ToList();
        var readers = operations.Where(o => o.Operation.Method == "GET").Select(o => o.Valid("read back after the sweep")).Concat(users).ToList();
        Done("setup");

        static bool IsRefusedWrite(HostileRequest request) => request.MustBeRefused && request.Operation.IsWrite;
        var database = Databases.GetValueOrDefault(service);
        var before = database is null ? null : await TableSnapshot.TakeAsync(platform.AppHost.ConnectionString(database), service, identity.TenantId);
        var refused = await runner.RunAsync(hostile.Where(IsRefusedWrite).Select(One), "refused writes");
        var after = database is null ? null : await TableSnapshot.TakeAsync(platform.AppHost.ConnectionString(database), service, identity.TenantId);
        outcomes.AddRange(refused);
        await RestoreAsync(valid.Values);
        Done("refused writes");

        // Everything but the stored writes runs side by side against the valid stored state.
        var rest = hostile.Where(r => !IsRefusedWrite(r)).ToList();
        outcomes.AddRange(await runner.RunAsync(rest.Where(r => !Stores(r) && r.Operation.Method != "DELETE").Select(One), "sweep"));
        Done("sweep");

        // A stored write is followed, once accepted, by the calls that use what it stored; one operation at a time, so
        // a failing call is put down to the write just before it. The valid value is put back after each operation.
        foreach (var lane in rest.Where(Stores).GroupBy(r => r.Operation.Name))
        {
            outcomes.AddRange(await runner.RunAsync([[.. lane]], "stored writes", users));
            await RestoreAsync([valid[lane.Key]]);
        }

        Done("stored writes");
        outcomes.AddRange(await runner.RunAsync(readers.Select(r => One(r with { Case = "read back after the sweep" })), "read-back"));
        outcomes.AddRange(await runner.RunAsync(rest.Where(r => r.Operation.Method == "DELETE").Select(One), "deletes"));
        Done("deletes");
        return new SweepResult(hostile.Count, outcomes, refused, before, after, phases);
    }

    private static IReadOnlyList<HostileRequest> One(HostileRequest request) => [request];
}
