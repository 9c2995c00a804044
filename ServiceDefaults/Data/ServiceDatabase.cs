using System.Data.Common;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Platform.ServiceDefaults.Data;

public static class ServiceDatabaseExtensions
{
    /// <summary>
    /// Each replica's most open connections unless its connection string names its own <c>Maximum Pool Size</c>.
    /// Every replica of every service shares one server: Npgsql's default of 100 per pool let five processes ask for
    /// 500 under a burst, and PostgreSQL refused the connections past its <c>max_connections</c> (<c>53300</c>), failing
    /// requests midway. A bounded pool makes a burst wait its turn in the process instead.
    /// </summary>
    public const int DefaultMaxPoolSize = 25;

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
        var maxPoolSize = builder.Configuration.GetValue("Database:MaxPoolSize", DefaultMaxPoolSize);
        builder.AddNpgsqlDataSource(connectionName, settings => settings.DisableTracing = !builder.ExportsTelemetry(), dataSource =>
        {
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            dataSource.ConnectionStringBuilder.MaxAutoPrepare = 64;
            dataSource.ConnectionStringBuilder.AutoPrepareMinUsages = 2;
            // Npgsql's builder knows every keyword; only the string it renders lists those that were set.
            if (!new DbConnectionStringBuilder { ConnectionString = dataSource.ConnectionStringBuilder.ConnectionString }.ContainsKey("Maximum Pool Size"))
            {
                dataSource.ConnectionStringBuilder.MaxPoolSize = maxPoolSize;
            }
        });
        return builder;
    }
}
