using System.Diagnostics;
using Platform.TestSupport;

namespace Platform.Tests.CrossService;

/// <summary>
/// The package audit CI runs before the tests (<c>.ci/audit.py</c>: NuGet's own audit over the whole restore graph,
/// against the advisories in <c>.ci/advisories.json</c>), run on copies so that the checkout's restore is left alone.
/// </summary>
public sealed class PackageAuditTests
{
    private static readonly string[] SkippedFolders = ["bin", "obj", "node_modules", ".platform", ".git", "TestResults"];

    [Fact]
    public async Task NoPackageInTheSolutionsRestoreGraphHasAKnownAdvisory()
    {
        var copy = Directory.CreateTempSubdirectory("platform-audit-").FullName;
        try
        {
            foreach (var file in ProjectFiles(Repository.Root))
            {
                var target = Path.Combine(copy, Path.GetRelativePath(Repository.Root, file));
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }

            var (exitCode, output) = await AuditAsync(Path.Combine(copy, "Platform.sln"));

            Assert.True(exitCode == 0, output);
            Assert.Contains("no package with a known advisory", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    [Fact]
    public async Task APackageWithAKnownAdvisoryFailsTheAuditByName()
    {
        var folder = Directory.CreateTempSubdirectory("platform-audit-").FullName;
        try
        {
            var project = Path.Combine(folder, "Vulnerable.csproj");
            await File.WriteAllTextAsync(project, """
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Newtonsoft.Json" Version="9.0.1" />
                  </ItemGroup>
                </Project>
                """);

            var (exitCode, output) = await AuditAsync(project);

            Assert.Equal(1, exitCode);
            Assert.Contains("Vulnerable package: Package 'Newtonsoft.Json' 9.0.1 has a known high severity vulnerability, https://github.com/advisories/GHSA-5crp-9r3c-p9vr", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>What a restore reads: the solution, the projects, and the props and SDK pins around them.</summary>
    private static IEnumerable<string> ProjectFiles(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            if (name is "Platform.sln" or "global.json" || Path.GetExtension(name) is ".csproj" or ".props" or ".targets")
            {
                yield return file;
            }
        }

        foreach (var child in Directory.EnumerateDirectories(folder).Where(d => !SkippedFolders.Contains(Path.GetFileName(d))))
        {
            foreach (var file in ProjectFiles(child))
            {
                yield return file;
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> AuditAsync(string target)
    {
        var startInfo = new ProcessStartInfo("python3", [Path.Combine(Repository.Root, ".ci", "audit.py"), target])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var audit = Process.Start(startInfo)!;
        var stderr = audit.StandardError.ReadToEndAsync();
        var stdout = await audit.StandardOutput.ReadToEndAsync();
        await audit.WaitForExitAsync();
        return (audit.ExitCode, stdout + await stderr);
    }
}
