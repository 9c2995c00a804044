using Microsoft.Extensions.Options;
using Platform.Model.Catalog;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Net;
using Platform.ServiceDefaults.Security;
using StackExchange.Redis;

using Platform.Tests;

namespace Platform.UnitTests;

public sealed class UpstreamHttpTests
{
    [Fact]
    public async Task WithoutTheTenantsAllowlistNothingIsSentAndTheUpstreamIsNotBlamed()
    {
        await using var listener = new CountingListener();
        using var redis = await ConnectionMultiplexer.ConnectAsync("127.0.0.1:1,abortConnect=false,connectTimeout=200");
        using var guarded = new GuardedClients(new HttpAllowlistIndex(redis), TimeProvider.System);
        using var http = new UpstreamHttp(guarded, new SecretProtector(Options.Create(new SecretProtectionOptions { Key = new string('k', 32) })));
        var baseUrl = $"http://127.0.0.1:{listener.Port}/v1";
        var deployment = new ModelDeployment("local", "local/0", "openai", "m", baseUrl, null, 0, 0, 1000, null, null, 1, null, "a-tenant");

        var failure = await Assert.ThrowsAsync<UpstreamException>(() =>
            http.SendAsync(new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/chat/completions"), deployment, CancellationToken.None));

        Assert.Equal(UpstreamFailure.Deployment, failure.Failure);
        Assert.Equal(0, listener.Accepted);
    }
}
