using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Data;

public static class ServiceDatabaseExtensions
{
    /// <summary>
    /// The service's PostgreSQL database through Aspire's Npgsql integration (health check, metrics; traces when they are
    /// exported, since a span nobody receives still costs every statement its recording). Pooled
    /// connections are not reset on return: no service keeps session state (every lock and setting is per
    /// transaction), and the reset would otherwise be one more statement, <c>DISCARD ALL</c>, before every reuse. That
    /// also keeps each connection's prepared statements: a statement used twice is prepared (Npgsql's automatic
    /// preparation), so PostgreSQL stops planning the same few statements again on every call.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase(this IHostApplicationBuilder builder, string connectionName)
    {
        builder.AddNpgsqlDataSource(connectionName, settings => settings.DisableTracing = !builder.ExportsTelemetry(), dataSource =>
        {
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = 64;
            dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
        });
        return builder;
    }
}
