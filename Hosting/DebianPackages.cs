using System.Diagnostics;

namespace Platform.Hosting;

/// <summary>
/// Installs Debian packages the platform or its tests need (postgresql, redis-server, chromium, npm) when running as
/// root on Debian or Ubuntu. Hosts starting side by side take turns through one lock file, since dpkg allows one
/// installer at a time.
/// </summary>
public static class DebianPackages
{
    public static bool CanInstall => Environment.IsPrivilegedProcess && File.Exists("/etc/debian_version") && File.Exists(AptGet);

    private const string AptGet = "/usr/bin/apt-get";

    /// <summary>Installs <paramref name="package"/> unless <paramref name="installed"/> turns true meanwhile; throws when apt fails.</summary>
    public static void Install(string package, Func<bool> installed, Action<string>? say = null)
    {
        using var turn = Turn();
        if (installed())
        {
            return;
        }

        say?.Invoke($"{package} is not installed; installing it with apt-get (this happens once).");
        foreach (var arguments in new[] { new[] { "update", "-qq" }, new[] { "install", "-y", "-qq", "--no-install-recommends", package } })
        {
            var startInfo = new ProcessStartInfo(AptGet, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
            using var apt = Process.Start(startInfo)!;
            var log = apt.StandardOutput.ReadToEndAsync();
            var errors = apt.StandardError.ReadToEnd();
            apt.WaitForExit();
            if (apt.ExitCode != 0)
            {
                throw new DistributedApplicationException($"apt-get {string.Join(' ', arguments)} failed ({apt.ExitCode}): {errors.Trim()} {log.Result.Trim()}");
            }
        }
    }

    private static FileStream Turn()
    {
        var lockFile = Path.Combine(Path.GetTempPath(), "platform-apt-install.lock");
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                Thread.Sleep(1000);
            }
        }
    }
}
