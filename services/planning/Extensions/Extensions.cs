using Platform.Planning.Plans;
using Platform.ServiceDefaults.Data;

namespace Platform.Planning.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("planningdb");
        builder.AddRedisClient("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);
        builder.AddTenantPurge("plans");

        builder.Services.AddSingleton<RedisJsonCache>();
        builder.Services.AddSingleton<PlanStore>();
    }
}
