using Platform.Model.Catalog;
using Platform.ServiceDefaults.Data;

namespace Platform.Model.Extensions;

internal static class Extensions
{
    public static void AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddNpgsqlDataSource("modeldb");
        builder.AddRedisClient("cache");
        builder.AddMigrations(typeof(Extensions).Assembly);

        builder.Services.AddSingleton<RedisJsonCache>();
        builder.Services.AddSingleton<ModelCatalog>();
    }
}
