namespace Platform.TestSupport;

/// <summary>Where the checkout and its built AppHost are, seen from a test's output folder.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration the tests were built in, which is the one the AppHost was built in too.</summary>
    public static string Configuration { get; } = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;

    public static string AppHostDirectory => Path.Combine(Root, "AppHost");

    public static string AppHostAssembly => Path.Combine(AppHostDirectory, "bin", Configuration, "net10.0", "AppHost.dll");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Platform.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Platform.sln not found above the test output folder.");
    }
}
