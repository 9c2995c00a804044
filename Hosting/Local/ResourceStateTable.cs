using System.Text;
using System.Text.Json.Nodes;

namespace Platform.Hosting.Local;

/// <summary>Shows resource states on the console and keeps the machine-readable state file current.</summary>
internal sealed class ResourceStateTable(StateDirectory state, ConsoleOutput output)
{
    private readonly Lock _gate = new();
    private IReadOnlyList<ResourceRunner> _runners = [];
    private IReadOnlyDictionary<string, string> _parameters = new Dictionary<string, string>();
    private IReadOnlyDictionary<string, string> _connectionStrings = new Dictionary<string, string>();
    private bool _ready;

    public void Track(IReadOnlyList<ResourceRunner> runners, IReadOnlyDictionary<string, string> parameters,
        IReadOnlyDictionary<string, string> connectionStrings)
    {
        _runners = runners;
        _parameters = parameters;
        _connectionStrings = connectionStrings;
        WriteStateFile();
    }

    public void OnStateChanged(ResourceRunner runner, ResourceState state, string? detail)
    {
        if (_ready || state is ResourceState.FailedToStart or ResourceState.Exited or ResourceState.Restarting)
        {
            output.Line("apphost", $"{runner.Name}: {state}{(detail is null ? "" : $" ({detail})")}");
        }

        WriteStateFile();
    }

    public void ShowReady(TimeSpan elapsed)
    {
        _ready = true;
        var table = new StringBuilder();
        var width = Math.Max(8, _runners.Max(r => r.Name.Length)) + 2;
        table.AppendLine();
        table.AppendLine($"  {"Resource".PadRight(width)}{"Type".PadRight(12)}{"State".PadRight(11)}URL");
        foreach (var runner in _runners)
        {
            table.AppendLine($"  {runner.Name.PadRight(width)}{runner.Type.PadRight(12)}{runner.State.ToString().PadRight(11)}{runner.Url}");
        }

        table.AppendLine();
        table.AppendLine($"  All resources healthy in {elapsed.TotalSeconds:0.0} s. State, URLs and the admin API key: {state.StateFile}");
        table.AppendLine("  Press Ctrl+C to stop.");
        table.AppendLine();
        output.Block(table.ToString());
        WriteStateFile();
    }

    private void WriteStateFile()
    {
        lock (_gate)
        {
            var resources = new JsonObject();
            foreach (var runner in _runners)
            {
                resources[runner.Name] = new JsonObject
                {
                    ["type"] = runner.Type,
                    ["state"] = runner.State.ToString(),
                    ["url"] = runner.Url,
                    ["pid"] = runner.ProcessId,
                    ["processStartTime"] = runner.ProcessId is { } pid ? Posix.StartTime(pid) : null,
                };
            }

            var document = new JsonObject
            {
                ["appHostPid"] = Environment.ProcessId,
                ["appHostStartTime"] = Posix.StartTime(Environment.ProcessId),
                ["ready"] = _ready,
                ["updatedAt"] = DateTimeOffset.UtcNow,
                ["resources"] = resources,
                ["connectionStrings"] = new JsonObject(_connectionStrings.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                ["parameters"] = new JsonObject(_parameters.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
            };
            StateDirectory.WriteSecretJson(state.StateFile, document);
        }
    }
}
