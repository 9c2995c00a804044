using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.ServiceDefaults.Authentication;

namespace Platform.ServiceDefaults.Http;

public static class HttpClientBuilderExtensions
{
    public static IServiceCollection AddServiceDiscovery(this IServiceCollection services)
    {
        services.TryAddTransient<ServiceDiscoveryHandler>();
        services.TryAddSingleton<ResiliencePipelines>();
        services.TryAddTransient<StandardResilienceHandler>();
        services.TryAddTransient<ApiKeyPropagationHandler>();
        services.AddHttpContextAccessor();
        return services;
    }

    public static IHttpClientBuilder AddServiceDiscovery(this IHttpClientBuilder builder) =>
        builder.AddHttpMessageHandler<ServiceDiscoveryHandler>();

    public static IHttpClientBuilder AddStandardResilienceHandler(this IHttpClientBuilder builder) =>
        builder.AddHttpMessageHandler<StandardResilienceHandler>();

    /// <summary>Calls to other services carry the caller's own API key, so they act as the originating tenant and no other.</summary>
    public static IHttpClientBuilder AddApiKeyPropagation(this IHttpClientBuilder builder) =>
        builder.AddHttpMessageHandler<ApiKeyPropagationHandler>();
}
