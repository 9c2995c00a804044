namespace Platform.Hosting.Tests;

public sealed class ExecutionContextTests
{
    [Fact]
    public void NoPublisherMeansRunModeAndKeepsConfigurationArguments()
    {
        var (context, rest) = DistributedApplicationExecutionContext.Parse(["--StateDirectory=/tmp/x", "--Ports:postgres", "0"]);

        Assert.True(context.IsRunMode);
        Assert.Equal(["--StateDirectory=/tmp/x", "--Ports:postgres", "0"], rest);
    }

    [Fact]
    public void AzdFormPublishesToTheGivenJsonFile()
    {
        var (context, _) = DistributedApplicationExecutionContext.Parse(["--publisher", "manifest", "--output-path", "/tmp/out/x.json"]);

        Assert.True(context.IsPublishMode);
        Assert.Equal("/tmp/out/x.json", context.ManifestPath);
    }

    [Fact]
    public void OutputPathWithoutJsonSuffixIsAFolder()
    {
        var (context, rest) = DistributedApplicationExecutionContext.Parse(
            ["--operation", "publish", "--step", "publish-manifest", "--output-path", "/tmp/out", "--dcp-cli-path", "/x", "--deploy"]);

        Assert.Equal("/tmp/out/aspire-manifest.json", context.ManifestPath);
        Assert.Empty(rest);
    }

    [Fact]
    public void UnknownPublisherIsRejected()
    {
        var error = Assert.Throws<DistributedApplicationException>(() => DistributedApplicationExecutionContext.Parse(["--publisher", "helm"]));

        Assert.Contains("helm", error.Message, StringComparison.Ordinal);
    }
}
