namespace Platform.Hosting;

public enum DistributedApplicationOperation
{
    Run,
    Publish,
}

/// <summary>What this invocation of the AppHost does, read from Aspire's command line.</summary>
public sealed class DistributedApplicationExecutionContext
{
    private DistributedApplicationExecutionContext(DistributedApplicationOperation operation, string? manifestPath)
    {
        Operation = operation;
        ManifestPath = manifestPath;
    }

    public DistributedApplicationOperation Operation { get; }

    public bool IsRunMode => Operation == DistributedApplicationOperation.Run;

    public bool IsPublishMode => Operation == DistributedApplicationOperation.Publish;

    /// <summary>The manifest file to write in publish mode, absolute.</summary>
    public string? ManifestPath { get; }

    /// <summary>
    /// Splits Aspire's own switches from configuration arguments. azd passes <c>--publisher manifest
    /// --output-path x.json</c>, the Aspire CLI <c>--operation publish --step publish-manifest --output-path dir</c>;
    /// DCP and deploy switches are accepted and ignored.
    /// </summary>
    public static (DistributedApplicationExecutionContext Context, string[] ConfigurationArgs) Parse(string[] args)
    {
        string? publisher = null, operation = null, outputPath = null;
        var rest = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var (name, inlineValue) = SplitSwitch(args[i]);
            string? TakeValue() => inlineValue ?? (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null);
            switch (name)
            {
                case "--publisher": publisher = TakeValue(); break;
                case "--operation": operation = TakeValue(); break;
                case "--output-path": outputPath = TakeValue(); break;
                case "--step" or "--log-level": TakeValue(); break;
                case "--deploy": TakeValue(); break;
                case not null when name.StartsWith("--dcp-", StringComparison.Ordinal): TakeValue(); break;
                default: rest.Add(args[i]); break;
            }
        }

        var publish = publisher is not null || string.Equals(operation, "publish", StringComparison.OrdinalIgnoreCase);
        if (!publish)
        {
            return (new(DistributedApplicationOperation.Run, null), rest.ToArray());
        }

        if (publisher is not null && publisher != "manifest")
        {
            throw new DistributedApplicationException($"Unknown publisher '{publisher}'. The only publisher is 'manifest'.");
        }

        var path = Path.GetFullPath(outputPath ?? "aspire-manifest.json");
        if (!path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            path = Path.Combine(path, "aspire-manifest.json");
        }

        return (new(DistributedApplicationOperation.Publish, path), rest.ToArray());
    }

    private static (string? Name, string? Value) SplitSwitch(string arg)
    {
        if (!arg.StartsWith("--", StringComparison.Ordinal))
        {
            return (null, null);
        }

        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? (arg, null) : (arg[..equals], arg[(equals + 1)..]);
    }
}
