using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Platform.ServiceDefaults.Data;

public static class ServiceCacheExtensions
{
    /// <summary>
    /// Redis through Aspire's integration (health check, metrics; traces when they are exported). Its socket I/O runs
    /// on the .NET thread pool rather than StackExchange.Redis's own dedicated threads: on two cores those threads spin
    /// and contend for their queue's lock, and a profile of the gateway at 50 concurrent requests spent a fifth of its
    /// CPU there.
    /// </summary>
    public static IHostApplicationBuilder AddServiceCache(this IHostApplicationBuilder builder, string connectionName)
    {
        builder.AddRedisClient(connectionName,
            settings => settings.DisableTracing = !builder.ExportsTelemetry(),
            options => options.SocketManager = SocketManager.ThreadPool);
        return builder;
    }
}
