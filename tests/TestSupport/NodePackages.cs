using System.Diagnostics;

namespace Platform.TestSupport;

/// <summary>The npm packages a test folder pins in its package.json, installed on first use.</summary>
public static class NodePackages
{
    /// <summary>Runs <c>npm install</c> in <paramref name="folder"/> unless <paramref name="installedFile"/> (relative to it) is already there.</summary>
    public static void Install(string folder, string installedFile)
    {
        var marker = Path.Combine(folder, installedFile);
        if (File.Exists(marker))
        {
            return;
        }

        if (!File.Exists("/usr/local/bin/npm") && !MachinePackages.EnsureAsync("/usr/bin/npm", "npm").GetAwaiter().GetResult())
        {
            throw new InvalidOperationException("npm is missing: install Node.js and npm.");
        }

        using var npm = Process.Start(new ProcessStartInfo("npm", ["install", "--prefix", folder, "--no-audit", "--no-fund"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var error = npm.StandardError.ReadToEndAsync();
        npm.StandardOutput.ReadToEnd();
        npm.WaitForExit();
        if (npm.ExitCode != 0 || !File.Exists(marker))
        {
            throw new InvalidOperationException($"npm install --prefix {folder} failed: {error.Result}");
        }
    }

    /// <summary>
    /// Runs <paramref name="script"/> of <paramref name="folder"/> with Node, its packages installed first (see
    /// <see cref="Install"/>), and answers its exit code, its standard output as lines and its standard error.
    /// </summary>
    public static async Task<NodeRun> RunAsync(string folder, string installedFile, string script, IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        Install(folder, installedFile);
        var startInfo = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        startInfo.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        using var node = Process.Start(startInfo)!;
        var errors = node.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (await node.StandardOutput.ReadLineAsync() is { } line)
        {
            lines.Add(line);
        }

        await node.WaitForExitAsync();
        return new NodeRun(node.ExitCode, [.. lines], await errors);
    }
}

/// <summary>How a Node script ended: its exit code, what it printed line by line, and what it said on standard error.</summary>
public sealed record NodeRun(int ExitCode, string[] Lines, string Errors);
