using Platform.Planning.Planner;
using Platform.Planning.Plans;
using Platform.ServiceDefaults.Data;
using Platform.ServiceDefaults.Http;

namespace Platform.Planning.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase("planningdb");
        builder.AddServiceCache("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);
        builder.AddTenantPurge("plan_revisions", "plans");

        builder.Services.AddSingleton<RedisJsonCache>();
        builder.Services.AddSingleton<PlanStore>();
        builder.Services.AddSingleton<ArgumentSchemas>();
        builder.Services.AddSingleton<PlanValidator>();
        builder.Services.AddSingleton<PlanBuilder>();
        builder.Services.AddSingleton<LlmPlanner>();
        builder.Services.AddSingleton<PlanningService>();
        builder.Services.AddSingleton<ToolDirectory>();
        builder.Services.AddSingleton<ModelGateway>();

        // Service discovery resolves these names; every call carries the caller's own API key.
        builder.Services.AddHttpClient(ToolDirectory.ClientName, c => c.BaseAddress = new Uri("http://tool"));
        builder.Services.AddHttpClient(ModelGateway.ClientName, c => c.BaseAddress = new Uri("http://model"));

        // A plan of many steps can take an LLM minutes: the gateway bounds the call (its own total timeout) and never
        // has it repeated here, so this client's one bound is a ceiling above the gateway's.
        builder.Services.AddUnretriedServiceClient(ModelGateway.ChatClientName, "model", TimeSpan.FromMinutes(5));
    }
}
