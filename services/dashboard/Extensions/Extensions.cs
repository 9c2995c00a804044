using Platform.Dashboard.Status;
using Platform.ServiceDefaults.Authentication;

namespace Platform.Dashboard.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddRedisClient("cache");
        // Browsers cannot send a bearer header on page loads, so the dashboard also reads the key from its cookie.
        builder.Services.Configure<ApiKeyAuthenticationOptions>(ApiKeyAuthenticationHandler.SchemeName, o => o.AllowCookie = true);
        builder.Services.AddHttpClient<ServiceStatusProbe>();
    }
}
