using Platform.ServiceDefaults.Data;
using Platform.Tool.Registry;

namespace Platform.Tool.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("tooldb");
        builder.AddRedisClient("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);

        builder.Services.AddSingleton<RedisJsonCache>();
        builder.Services.AddSingleton<ToolStore>();
    }
}
