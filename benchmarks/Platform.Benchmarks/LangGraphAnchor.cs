using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;
using Platform.TestSupport;

namespace Platform.Benchmarks;

/// <summary>
/// LangGraph JS (<c>benchmarks/anchors/langgraph-runs.mjs</c>, at the versions of the shared anchors) run in the same
/// session as ours, on the platform's own PostgreSQL server (database <c>lgbench</c>, so both sides have its settings
/// and are counted by the same pg_stat_statements) and, for the planned graph, against our mock upstream.
/// </summary>
internal static class LangGraphAnchor
{
    public const string Database = "lgbench";

    private static string Folder => Path.Combine(Repository.Root, "benchmarks", "anchors");

    public static async Task PrepareAsync(PlatformApp platform)
    {
        NodePackages.Install(Folder, "node_modules/@langchain/langgraph-checkpoint-postgres/package.json");
        await using var connection = new NpgsqlConnection($"{platform.ConnectionString("postgres")};Database=postgres;Pooling=false");
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand($"SELECT 1 FROM pg_database WHERE datname = '{Database}'", connection);
        if (await exists.ExecuteScalarAsync() is null)
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
            await create.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// One measured batch of <paramref name="graph"/> (<c>planned</c> or <c>noop</c>). <paramref name="counting"/> is
    /// called after the warm-up and again after the batch, while the node process (its pid given) and its database
    /// connections still live, so what it reads covers the batch alone.
    /// </summary>
    public static async Task<Result> RunAsync(
        PlatformApp platform, string graph, string durability, int concurrency, double seconds, string? mockUrl, Func<int, Task>? counting = null)
    {
        var connection = new NpgsqlConnectionStringBuilder(platform.ConnectionString("postgres")) { Database = Database };
        var start = new ProcessStartInfo("node",
            [Path.Combine(Folder, "langgraph-runs.mjs"), $"--graph={graph}", $"--durability={durability}", $"--concurrency={concurrency}",
             string.Create(CultureInfo.InvariantCulture, $"--duration={seconds}"), $"--warmup={RunsSuite.Warmup.TotalSeconds}", $"--tokens={PlanningUpstream.StreamedTokens}"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Folder,
        };
        start.Environment["PG_URL"] = $"postgresql://{connection.Username}:{Uri.EscapeDataString(connection.Password!)}@{connection.Host}:{connection.Port}/{Database}";
        start.Environment["MOCK_URL"] = mockUrl ?? "";
        using var node = Process.Start(start)!;
        var error = node.StandardError.ReadToEndAsync();
        if (await node.StandardOutput.ReadLineAsync() != "ready")
        {
            throw new InvalidOperationException($"langgraph-runs.mjs --graph={graph} did not start: {await error}");
        }

        await (counting?.Invoke(node.Id) ?? Task.CompletedTask);
        await node.StandardInput.WriteLineAsync("go");
        var result = await node.StandardOutput.ReadLineAsync();
        await (counting?.Invoke(node.Id) ?? Task.CompletedTask);
        await node.StandardInput.WriteLineAsync("end");
        await node.WaitForExitAsync();
        if (node.ExitCode != 0 || result is null)
        {
            throw new InvalidOperationException($"langgraph-runs.mjs --graph={graph} exited {node.ExitCode}: {await error}");
        }

        return JsonSerializer.Deserialize<Result>(result, new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
    }

    public sealed record Result(int Runs, int Failures, string LastError, double RunsPerSecond, double P50, double P99, double StatementsPerRun, double TransactionsPerRun, double CpuMsPerRun)
    {
        public string Row(string scenario, int concurrency) => string.Create(CultureInfo.InvariantCulture,
            $"{scenario,-40} {concurrency,5} {RunsPerSecond,9:0.0} {P50,8:0.00} {P99,8:0.00} {"",8} {"",8} {Failures,7}");
    }
}
