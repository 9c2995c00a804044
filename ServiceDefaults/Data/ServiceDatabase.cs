using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Data;

public static class ServiceDatabaseExtensions
{
    /// <summary>
    /// The service's PostgreSQL database through Aspire's Npgsql integration (health check, traces, metrics). Pooled
    /// connections are not reset on return: no service keeps session state (every lock and setting is per
    /// transaction), and the reset would otherwise be one more statement, <c>DISCARD ALL</c>, before every reuse.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase(this IHostApplicationBuilder builder, string connectionName)
    {
        builder.AddNpgsqlDataSource(connectionName, configureDataSourceBuilder: dataSource => dataSource.ConnectionStringBuilder.NoResetOnClose = true);
        return builder;
    }
}
