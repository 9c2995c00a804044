using System.Diagnostics;

namespace Platform.Hosting;

/// <summary>
/// Installs a Debian package when running as root on Debian or Ubuntu. Hosts starting side by side take turns through
/// one lock file, since dpkg allows one installer at a time.
/// </summary>
public static class DebianPackages
{
    private const string AptGet = "/usr/bin/apt-get";

    public static bool CanInstall => Environment.IsPrivilegedProcess && File.Exists("/etc/debian_version") && File.Exists(AptGet);

    /// <summary>Installs <paramref name="package"/> unless <paramref name="installed"/> turns true meanwhile; throws when apt fails.</summary>
    public static async Task InstallAsync(string package, Func<bool> installed, Action<string> say, CancellationToken cancellationToken)
    {
        await using var turn = await TakeTurnAsync(cancellationToken);
        if (installed())
        {
            return;
        }

        say($"{package} is not installed; installing it with apt-get (this happens once).");
        foreach (var arguments in new[] { new[] { "update", "-qq" }, ["install", "-y", "-qq", "--no-install-recommends", package] })
        {
            var startInfo = new ProcessStartInfo(AptGet, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var apt = Process.Start(startInfo)!;
            var output = apt.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = await apt.StandardError.ReadToEndAsync(cancellationToken);
            await apt.WaitForExitAsync(cancellationToken);
            if (apt.ExitCode != 0)
            {
                throw new InvalidOperationException($"apt-get {string.Join(' ', arguments)} failed ({apt.ExitCode}): {errors.Trim()} {(await output).Trim()}");
            }
        }
    }

    private static async Task<FileStream> TakeTurnAsync(CancellationToken cancellationToken)
    {
        var lockFile = Path.Combine(Path.GetTempPath(), "platform-apt-install.lock");
        while (true)
        {
            try
            {
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }
}
