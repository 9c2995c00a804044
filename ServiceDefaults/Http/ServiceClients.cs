using Microsoft.Extensions.DependencyInjection;

namespace Platform.ServiceDefaults.Http;

public static class ServiceClients
{
    /// <summary>
    /// A named client for another platform service (its service-discovery name, such as <c>model</c>) whose callers
    /// bound and repeat their calls themselves: a paid completion, a plan that takes an LLM minutes, an event stream that
    /// stays open. The standard resilience handler would repeat the first and cut the others at its total timeout, so
    /// this client has none, and <paramref name="timeout"/> is its one bound.
    /// </summary>
    public static IHttpClientBuilder AddUnretriedServiceClient(this IServiceCollection services, string name, string service, TimeSpan timeout)
    {
#pragma warning disable EXTEXP0001 // Experimental since 8.x, and the one documented way to take a client out of the service defaults.
        return services.AddHttpClient(name, c => (c.BaseAddress, c.Timeout) = (new Uri($"http://{service}"), timeout)).RemoveAllResilienceHandlers();
#pragma warning restore EXTEXP0001
    }
}
