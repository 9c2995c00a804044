using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Hosting.Local;

/// <summary>The git-ignored folder that keeps generated secrets, Postgres and Redis data, and the state file.</summary>
internal sealed class StateDirectory
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public StateDirectory(string root)
    {
        Root = Path.GetFullPath(root);
        Directory.CreateDirectory(Root);
        File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
    }

    public string Root { get; }

    public string ParametersFile => Path.Combine(Root, "parameters.json");

    public string StateFile => Path.Combine(Root, "state.json");

    public string PathOf(string name) => Path.Combine(Root, name);

    public JsonObject? ReadJson(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (JsonException e)
        {
            throw new DistributedApplicationException($"{path} is not valid JSON ({e.Message}); fix or remove it.");
        }
    }

    /// <summary>Writes a file only its owner can read, atomically, so a reader never sees half a file.</summary>
    public static void WriteSecretJson(string path, JsonNode content)
    {
        var temporary = $"{path}.{Environment.ProcessId}.tmp";
        using (var stream = new FileStream(temporary, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            JsonSerializer.Serialize(stream, content, Indented);
        }

        File.Move(temporary, path, overwrite: true);
    }
}
