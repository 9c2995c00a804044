namespace Platform.TestSupport;

/// <summary>What a few suites need beyond the .NET SDK (a browser, npm), installed the way the AppHost installs its servers.</summary>
public static class MachinePackages
{
    /// <summary>True when <paramref name="file"/> exists, after installing <paramref name="package"/> if it could.</summary>
    public static async Task<bool> EnsureAsync(string file, string package)
    {
        if (!File.Exists(file) && Platform.Hosting.DebianPackages.CanInstall)
        {
            await Platform.Hosting.DebianPackages.InstallAsync(package, () => File.Exists(file), _ => { }, CancellationToken.None);
        }

        return File.Exists(file);
    }
}
