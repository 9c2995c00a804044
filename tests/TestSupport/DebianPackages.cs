using System.Diagnostics;

namespace Platform.TestSupport;

/// <summary>
/// What a few suites need beyond the .NET SDK (a browser, npm), installed from Debian's packages when missing and the
/// tests run as root on Debian, as the AppHost does for PostgreSQL and Redis; otherwise the caller says what to install.
/// </summary>
public static class DebianPackages
{
    private static readonly Lock Gate = new();

    /// <summary>True when <paramref name="file"/> exists, after installing <paramref name="package"/> if it could.</summary>
    public static bool Ensure(string file, string package)
    {
        lock (Gate)
        {
            if (File.Exists(file) || !Environment.IsPrivilegedProcess || !File.Exists("/etc/debian_version") || !File.Exists("/usr/bin/apt-get"))
            {
                return File.Exists(file);
            }

            // The AppHost's installer and parallel test assemblies take turns through the same lock file.
            using var turn = Turn();
            foreach (var arguments in new[] { new[] { "update", "-qq" }, new[] { "install", "-y", "-qq", "--no-install-recommends", package } })
            {
                var startInfo = new ProcessStartInfo("/usr/bin/apt-get", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
                startInfo.Environment["DEBIAN_FRONTEND"] = "noninteractive";
                using var apt = Process.Start(startInfo)!;
                apt.StandardOutput.ReadToEndAsync();
                apt.StandardError.ReadToEnd();
                apt.WaitForExit();
            }

            return File.Exists(file);
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
