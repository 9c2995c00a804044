using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.ServiceDefaults.Http;

namespace Platform.UnitTests;

/// <summary>
/// A request that finds its database out of reach (or out of connections) is answered 503 with Retry-After, which
/// callers retry, not 500, which they report as the service's fault; any other failure stays a 500.
/// </summary>
public sealed class DataServerOutageTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddProblemDetails();
        builder.Services.AddOptions<ErrorShapeOptions>();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        _app = builder.Build();
        _app.UseExceptionHandler();
        // Nothing listens on port 1: opening a connection fails the way an unreachable server does.
        _app.MapGet("/database", async () =>
        {
            await using var connection = new NpgsqlConnection("Host=127.0.0.1;Port=1;Username=u;Password=p;Timeout=2");
            await connection.OpenAsync();
            return "unreachable";
        });
        _app.MapGet("/bug", string () => throw new InvalidOperationException("a defect"));
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task AnUnreachableDatabaseIsAServiceUnavailableToRetry()
    {
        using var response = await _client.GetAsync("/database");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task AnyOtherFailureIsTheServicesOwn500()
    {
        using var response = await _client.GetAsync("/bug");

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Null(response.Headers.RetryAfter);
    }
}
