using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.StackExchangeRedis;
using Microsoft.FluentUI.AspNetCore.Components;
using Platform.Dashboard.Clients;
using Platform.Dashboard.Session;
using Platform.Dashboard.Status;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Data;
using StackExchange.Redis;
using Platform.ServiceDefaults.Http;

namespace Platform.Dashboard.Extensions;

internal static class Extensions
{
    private const string DataProtectionKeys = "platform:dashboard:data-protection-keys";

    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceCache("cache");
        // Antiforgery tokens and prerendered state must read on every replica, and the root filesystem is read-only on Kubernetes.
        builder.Services.AddDataProtection().SetApplicationName("platform-dashboard");
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IConnectionMultiplexer>((options, redis) =>
            options.XmlRepository = new RedisXmlRepository(() => redis.GetDatabase(), DataProtectionKeys));
        // Browsers cannot send a bearer header on page loads, so the dashboard also reads the key from its cookie.
        builder.Services.Configure<ApiKeyAuthenticationOptions>(ApiKeyAuthenticationHandler.SchemeName, o => o.AllowCookie = true);
        builder.Services.AddHttpClient<ServiceStatusProbe>();

        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddFluentUIComponents();

        // An interactive circuit has no HttpContext: the key the circuit was opened with rides in its principal.
        builder.Services.AddTransient<IClaimsTransformation, ApiKeyClaimsTransformation>();
        builder.Services.AddScoped<SignedInKey>();

        // The dashboard reads and steers the platform through the services' public APIs, with the operator's own key.
        builder.Services.AddHttpClient<OrchestratorClient>(c => c.BaseAddress = new Uri("http://orchestrator"));
        builder.Services.AddHttpClient<ToolClient>(c => c.BaseAddress = new Uri("http://tool"));
        builder.Services.AddHttpClient<ModelClient>(c => c.BaseAddress = new Uri("http://model"));

        // A run's event stream stays open until the run ends: no attempt or total timeout may cut it.
        builder.Services.AddUnretriedServiceClient(OrchestratorClient.EventsClientName, "orchestrator", Timeout.InfiniteTimeSpan);
    }

    /// <summary>A visitor without a valid key who asks for a page (not an API) is sent to the sign-in page.</summary>
    public static void UseSignInRedirect(this WebApplication app) => app.Use(async (context, next) =>
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null
            && !(await context.AuthenticateAsync()).Succeeded)
        {
            context.Response.Redirect("/login");
            return;
        }

        await next(context);
    });
}
