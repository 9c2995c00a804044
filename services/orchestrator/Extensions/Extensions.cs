using ModelContextProtocol.AspNetCore;
using Platform.Orchestrator.Agents;
using Platform.Orchestrator.Mcp;
using Platform.Orchestrator.Runs;
using Platform.Orchestrator.Runs.Execution;
using Platform.Orchestrator.Runs.Steps;
using Platform.Orchestrator.Tenants;
using Platform.Orchestrator.Webhooks;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Net;
using Platform.ServiceDefaults.Security;
using Platform.ServiceDefaults.Http;

namespace Platform.Orchestrator.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase("orchestratordb");
        builder.AddServiceCache("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);
        builder.AddSecretProtection();

        builder.Services.AddOptions<BootstrapOptions>().BindConfiguration("Authentication").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<TenantStore>();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddSingleton<ApiKeyIndexSync>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ApiKeyIndexSync>());
        builder.Services.AddHealthChecks().AddCheck<ApiKeyIndexSync.HealthCheck>("api-key-index", tags: ["ready"]);

        builder.Services.AddOptions<TenantLifecycleOptions>().BindConfiguration("Tenants");
        builder.Services.AddSingleton<TenantLifecycle>();
        builder.Services.AddHostedService<DeletedTenantsAnnouncer>();
        // Children before parents: steps, events and the outbox refer to runs.
        builder.AddTenantPurge("run_events", "run_steps", "outbox", "runs", "agents", "api_keys");

        builder.Services.AddSingleton<AgentStore>();
        builder.AddRuns();
        builder.AddWebhooks();
        builder.AddAgentsMcpServer();
    }

    private static void AddAgentsMcpServer(this IHostApplicationBuilder builder) =>
        builder.Services.AddMcpServer(options => options.ServerInfo = new() { Name = "platform-agents", Version = typeof(Extensions).Assembly.GetName().Version!.ToString(3) })
            .WithHttpTransport(options => options.SessionMode = HttpServerSessionMode.StatefulForInitializeClients)
            .WithListToolsHandler(AgentTools.ListAsync)
            .WithCallToolHandler(AgentTools.CallAsync);

    private static void AddRuns(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RunOptions>().BindConfiguration("Runs");
        builder.Services.AddSingleton<RunStore>();
        builder.Services.AddSingleton<RunKeys>();
        builder.Services.AddSingleton<RunSignals>();
        builder.Services.AddSingleton<RunCommitter>();
        builder.Services.AddSingleton<StepCalls>();
        builder.Services.AddSingleton<StepAttemptRunner>();
        builder.Services.AddSingleton<RunCompensator>();
        builder.Services.AddSingleton<RunReplanner>();
        builder.Services.AddSingleton<RunEnding>();
        builder.Services.AddSingleton<RunPlanner>();
        builder.Services.AddSingleton<StepScheduler>();
        builder.Services.AddSingleton<RunExecutor>();
        builder.Services.AddSingleton<RunWorker>();
        builder.Services.AddSingleton<RunOperations>();
        builder.Services.AddSingleton<RunFeed>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RunWorker>());
        builder.Services.AddSingleton<PlanCalls>();
        builder.Services.AddSingleton<ModelCalls>();
        builder.Services.AddSingleton<ToolCalls>();
        builder.Services.AddHostedService<RunMetrics>();

        // Steps bound their calls themselves (step timeouts) and repeat them only under the same idempotency key, so
        // these clients have no timeout below the step's.
        builder.Services.AddUnretriedServiceClient(ModelCalls.ClientName, "model", Timeout.InfiniteTimeSpan);
        builder.Services.AddUnretriedServiceClient(ToolCalls.ClientName, "tool", Timeout.InfiniteTimeSpan);
        builder.Services.AddUnretriedServiceClient(PlanCalls.ClientName, "planning", TimeSpan.FromMinutes(5));
    }

    private static void AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WebhookOptions>().BindConfiguration("Webhooks");
        builder.Services.AddSingleton<WebhookSigner>();
        builder.Services.AddSingleton<HttpAllowlistIndex>();
        builder.Services.AddHostedService<WebhookDispatcher>();
    }
}
