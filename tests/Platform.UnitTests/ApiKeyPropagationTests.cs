using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Platform.ServiceDefaults.Authentication;

namespace Platform.UnitTests;

/// <summary>Calls from a service to another carry the caller's own key, through the HttpClient every service gets.</summary>
public sealed class ApiKeyPropagationTests
{
    [Fact]
    public async Task AServiceCallCarriesTheCallersKeyToTheResolvedService()
    {
        var (client, accessor, upstream) = CreateClient();
        var context = new DefaultHttpContext();
        context.Items[ApiKeyAuthenticationHandler.PresentedKeyItem] = "plt_callerKey";
        accessor.HttpContext = context;

        using var response = await client.GetAsync("http://planning/v1/plans");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer plt_callerKey", upstream.Authorization);
        Assert.Equal(new Uri("http://127.0.0.1:5999/v1/plans"), upstream.RequestUri);
    }

    [Fact]
    public async Task AThirdPartyHostNeverGetsTheCallersKey()
    {
        var (client, accessor, upstream) = CreateClient();
        var context = new DefaultHttpContext();
        context.Items[ApiKeyAuthenticationHandler.PresentedKeyItem] = "plt_callerKey";
        accessor.HttpContext = context;

        using var response = await client.GetAsync("http://api.example.com/v1/messages");

        Assert.Null(upstream.Authorization);
    }

    [Fact]
    public async Task WithoutAnIncomingRequestNoKeyIsInvented()
    {
        var (client, _, upstream) = CreateClient();

        using var response = await client.GetAsync("http://planning/v1/plans");

        Assert.Null(upstream.Authorization);
    }

    private static (HttpClient Client, IHttpContextAccessor Accessor, RecordingHandler Upstream) CreateClient()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["services:planning:http:0"] = "http://127.0.0.1:5999";
        builder.Configuration["ConnectionStrings:cache"] = "localhost:1";
        builder.AddServiceDefaults();
        var upstream = new RecordingHandler();
        builder.Services.AddHttpClient("test").ConfigurePrimaryHttpMessageHandler(() => upstream);
        var services = builder.Services.BuildServiceProvider();
        return (services.GetRequiredService<IHttpClientFactory>().CreateClient("test"), services.GetRequiredService<IHttpContextAccessor>(), upstream);
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public string? Authorization { get; private set; }

        public Uri? RequestUri { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Authorization = request.Headers.Authorization?.ToString();
            RequestUri = request.RequestUri;
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
