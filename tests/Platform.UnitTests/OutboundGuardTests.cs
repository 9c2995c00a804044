using System.Net;
using Platform.ServiceDefaults.Net;

using Platform.Tests;

namespace Platform.UnitTests;

/// <summary>
/// The SSRF guard every service's outbound HTTP to tenant-chosen addresses goes through, exercised with real
/// connections to loopback listeners: only the operator's grant opens a private address, a tenant's list only narrows,
/// and a proxy never stands between the guard and the target.
/// </summary>
public sealed class OutboundGuardTests : IAsyncLifetime
{
    private readonly CountingListener _target = new();
    private readonly CountingListener _proxy = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _target.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    [Fact]
    public async Task AHostOnTheTenantsAllowlistIsStillRefusedWhenItResolvesToLoopback()
    {
        var policy = new OutboundPolicy(Set("127.0.0.1", $"127.0.0.1:{_target.Port}"), Set());

        var refusal = await RefusalAsync(policy, $"http://127.0.0.1:{_target.Port}/v1/models");

        Assert.Contains("only the platform operator", refusal, StringComparison.Ordinal);
        Assert.Equal(0, _target.Accepted);
    }

    [Fact]
    public async Task TheOperatorsGrantOpensExactlyTheGrantedDestination()
    {
        var policy = new OutboundPolicy(Set("api.example.com"), Set($"127.0.0.1:{_target.Port}"));
        using var client = new HttpClient(OutboundGuard.CreateHandler(policy));

        using var granted = await client.GetAsync(new Uri($"http://127.0.0.1:{_target.Port}/v1/models"));
        var otherPort = await RefusalAsync(policy, $"http://127.0.0.1:{_proxy.Port}/v1/models");

        Assert.Equal(HttpStatusCode.OK, granted.StatusCode);
        Assert.Contains("allowlist", otherPort, StringComparison.Ordinal);
        Assert.Equal(0, _proxy.Accepted);
    }

    /// <summary>
    /// A proxy the environment names (HTTP_PROXY, set here on the handler as the environment would) is where the
    /// connection would go, so the guard would check the proxy's address, allowed, and never the target's.
    /// </summary>
    [Fact]
    public async Task AProxyIsNeverUsedSoTheTargetItselfIsChecked()
    {
        var policy = new OutboundPolicy(Set(), Set($"127.0.0.1:{_proxy.Port}"));
        var handler = OutboundGuard.CreateHandler(policy);
        handler.Proxy = new WebProxy($"http://127.0.0.1:{_proxy.Port}");

        var refusal = await RefusalAsync(handler, "http://169.254.169.254/latest/meta-data/");

        Assert.Contains("169.254.169.254", refusal, StringComparison.Ordinal);
        Assert.Equal(0, _proxy.Accepted);
    }

    [Theory]
    [InlineData("https://api.example.com/a", "http://api.example.com/b")]
    [InlineData("https://api.example.com/a", "http://elsewhere.example/b")]
    public void ARedirectFromHttpsDownToHttpIsRefused(string from, string location) =>
        Assert.Throws<BlockedRequestException>(() => OutboundGuard.Redirect(new Uri(from), new Uri(location)));

    [Theory]
    [InlineData("http://api.example.com/a", "https://api.example.com/b", "https://api.example.com/b")]
    [InlineData("https://api.example.com/a/b", "/c", "https://api.example.com/c")]
    public void ARedirectUpToHttpsOrWithinTheSiteIsFollowed(string from, string location, string expected) =>
        Assert.Equal(new Uri(expected), OutboundGuard.Redirect(new Uri(from), new Uri(location, UriKind.RelativeOrAbsolute)));

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("127.0.0.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("10.1.2.3", true)]
    [InlineData("192.168.0.10", true)]
    [InlineData("postgres", true)]
    [InlineData("cache", true)]
    [InlineData("metadata.google.internal", true)]
    [InlineData("tool.platform.svc.cluster.local", true)]
    [InlineData("printer.local", true)]
    [InlineData("api.example.com", false)]
    [InlineData("8.8.8.8", false)]
    public void InternalHostsAreTheOperatorsToGrant(string host, bool isInternal) => Assert.Equal(isInternal, OutboundGuard.IsInternalHost(host));

    private static Task<string> RefusalAsync(OutboundPolicy policy, string url) => RefusalAsync(OutboundGuard.CreateHandler(policy), url);

    private static async Task<string> RefusalAsync(HttpMessageHandler handler, string url)
    {
        using var client = new HttpClient(handler);
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(url)));
        return Assert.IsType<BlockedRequestException>(failure.InnerException).Message;
    }

    private static HashSet<string> Set(params string[] hosts) => new(hosts, StringComparer.OrdinalIgnoreCase);
}
