using System.Diagnostics;

namespace Platform.Tests;

/// <summary>Checks that backups are the running user's alone: folders 0700, files 0600, owned by this process's user.</summary>
internal static class OwnerOnlyFiles
{
    private const UnixFileMode Folder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode File = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Every folder in <paramref name="folders"/> and every file anywhere below the last one.</summary>
    public static void Assert(params string[] folders)
    {
        var files = Directory.GetFiles(folders[^1], "*", SearchOption.AllDirectories);
        Xunit.Assert.NotEmpty(files);
        foreach (var folder in folders.Concat(Directory.GetDirectories(folders[^1], "*", SearchOption.AllDirectories)))
        {
            Xunit.Assert.True(System.IO.File.GetUnixFileMode(folder) == Folder, $"{folder} is {System.IO.File.GetUnixFileMode(folder)}");
        }

        foreach (var file in files)
        {
            Xunit.Assert.True(System.IO.File.GetUnixFileMode(file) == File, $"{file} is {System.IO.File.GetUnixFileMode(file)}");
        }

        using var stat = Process.Start(new ProcessStartInfo("stat", ["--format=%U", .. folders, .. files]) { RedirectStandardOutput = true })!;
        var owners = stat.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        stat.WaitForExit();
        Xunit.Assert.Equal(folders.Length + files.Length, owners.Length);
        Xunit.Assert.All(owners, owner => Xunit.Assert.Equal(Environment.UserName, owner));
    }
}
