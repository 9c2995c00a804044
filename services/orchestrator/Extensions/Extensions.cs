using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Tenants;
using Platform.ServiceDefaults.Data;

namespace Platform.Orchestrator.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("orchestratordb");
        builder.AddRedisClient("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);

        builder.Services.AddOptions<BootstrapOptions>().BindConfiguration("Authentication").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<TenantStore>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ApiKeyIndexSync>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ApiKeyIndexSync>());
        builder.Services.AddHealthChecks().AddCheck<ApiKeyIndexSync.HealthCheck>("api-key-index", tags: ["ready"]);

        builder.Services.AddOptions<TenantLifecycleOptions>().BindConfiguration("Tenants");
        builder.Services.AddSingleton<TenantLifecycle>();
        builder.Services.AddHostedService<DeletedTenantsAnnouncer>();
        builder.AddTenantPurge("api_keys", "agents");

        builder.Services.AddSingleton<AgentStore>();
    }
}
