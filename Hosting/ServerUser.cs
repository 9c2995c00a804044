using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Platform.Hosting;

/// <summary>
/// PostgreSQL refuses to run as root, so under root its programs run as the unprivileged <c>postgres</c> user through
/// <c>setpriv</c>, which execs them directly so that DCP's stop signal reaches the server itself.
/// </summary>
internal static class ServerUser
{
    public const string Name = "postgres";

    public static bool IsNeeded => Environment.IsPrivilegedProcess;

    /// <summary>The command and leading arguments that run <paramref name="program"/> as the server user.</summary>
    public static (string Command, string[] Arguments) Wrap(string program) =>
        IsNeeded ? ("setpriv", ["--reuid", Name, "--regid", Name, "--init-groups", "--", program]) : (program, []);

    /// <summary>
    /// The folder to keep PostgreSQL's data in: <paramref name="folder"/>, unless the server user cannot reach it (a
    /// checkout under /root), in which case a folder of that user's own, keyed by <paramref name="folder"/>.
    /// </summary>
    public static async Task<string> ReachableFolderAsync(string folder, Action<string> say)
    {
        Directory.CreateDirectory(folder);
        if (!IsNeeded)
        {
            return folder;
        }

        await GiveAsync(folder);
        if (await RunAsync("/usr/bin/test", ["-w", folder], throwOnFailure: false))
        {
            return folder;
        }

        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(folder)))[..16];
        var fallback = Path.Combine("/var/lib/postgresql/platform", key);
        say($"The {Name} user cannot reach {folder}; keeping PostgreSQL data in {fallback} instead.");
        Directory.CreateDirectory(fallback);
        await GiveAsync("/var/lib/postgresql/platform");
        return fallback;
    }

    public static async Task GiveAsync(string path)
    {
        if (IsNeeded)
        {
            await RunProcessAsync(new ProcessStartInfo("chown", ["-R", $"{Name}:{Name}", path]), throwOnFailure: true);
        }
    }

    /// <summary>Runs <paramref name="program"/> as the server user to completion; false (or an exception) when it fails.</summary>
    public static Task<bool> RunAsync(string program, string[] arguments, bool throwOnFailure = true)
    {
        var (command, prefix) = Wrap(program);
        return RunProcessAsync(new ProcessStartInfo(command, [.. prefix, .. arguments]), throwOnFailure);
    }

    private static async Task<bool> RunProcessAsync(ProcessStartInfo startInfo, bool throwOnFailure)
    {
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        using var process = Process.Start(startInfo)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && throwOnFailure)
        {
            throw new InvalidOperationException(
                $"{startInfo.FileName} {string.Join(' ', startInfo.ArgumentList)} failed ({process.ExitCode}): {errors.Trim()} {(await output).Trim()}");
        }

        return process.ExitCode == 0;
    }
}
