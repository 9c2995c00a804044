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
}
