using Platform.Model.Agents;
using Platform.Model.Budgets;
using Platform.Model.Catalog;
using Platform.Model.Ledger;
using Platform.Model.Gateway;
using Platform.Model.Providers;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Net;
using Platform.ServiceDefaults.Security;

namespace Platform.Model.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase("modeldb");
        builder.AddServiceCache("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);
        builder.AddSecretProtection();
        builder.AddTenantPurge("model_aliases", "budgets", "usage_ledger", "idempotency_claims");

        builder.Services.AddSingleton<ModelCatalog>();
        builder.Services.AddHostedService<ApiKeyReencryption>();
        builder.Services.AddSingleton<HttpAllowlistIndex>();
        builder.Services.AddSingleton<GuardedClients>();
        builder.Services.AddOptions<ModelGatewayOptions>().BindConfiguration("ModelGateway");
        builder.Services.AddSingleton<UpstreamHttp>();
        builder.Services.AddSingleton<IChatProvider, SimulatorProvider>();
        builder.Services.AddSingleton<IChatProvider, OpenAiProvider>();
        builder.Services.AddSingleton<IChatProvider, AnthropicProvider>();
        builder.Services.AddSingleton<IEmbeddingProvider, LocalEmbeddingProvider>();
        builder.Services.AddSingleton<DeploymentHealth>();
        builder.Services.AddSingleton<ChatRouter>();
        builder.Services.AddSingleton<ResponseCache>();
        builder.Services.AddSingleton<IdempotencyStore>();
        builder.Services.AddHostedService<IdempotencyExpiry>();
        builder.Services.AddSingleton<BudgetStore>();
        builder.Services.AddSingleton<BudgetGate>();
        builder.Services.AddHostedService<BudgetMetrics>();
        builder.Services.AddSingleton<UsageStore>();
        builder.Services.AddSingleton<UsageLedger>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<UsageLedger>());
        builder.Services.AddSingleton<ChatGateway>();
        builder.Services.AddSingleton<ProviderRegistry>();

        // Agents answer as models through runs of the orchestrator; the event stream of a run stays open until it ends.
        builder.Services.AddSingleton<AgentRuns>();
        builder.Services.AddSingleton<AgentCompletions>();
        builder.Services.AddUnretriedServiceClient(AgentRuns.ClientName, "orchestrator", Timeout.InfiniteTimeSpan);
        builder.Services.Configure<ErrorShapeOptions>(o => o.Use(new OpenAiErrorShape(), OpenAiErrorShape.Paths));
    }
}
