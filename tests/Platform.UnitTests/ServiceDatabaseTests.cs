using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Platform.ServiceDefaults.Data;

namespace Platform.UnitTests;

/// <summary>
/// Every replica of every service shares one PostgreSQL server, so each pool is bounded: by default, by
/// <c>Database:MaxPoolSize</c>, or by the connection string's own <c>Maximum Pool Size</c>, which wins.
/// </summary>
public sealed class ServiceDatabaseTests
{
    private const string Server = "Host=127.0.0.1;Port=5999;Username=u;Password=p;Database=servicedb";

    [Theory]
    [InlineData(Server, null, ServiceDatabaseExtensions.DefaultMaxPoolSize)]
    [InlineData(Server, "7", 7)]
    [InlineData(Server + ";Maximum Pool Size=40", "7", 40)]
    [InlineData(Server + ";MaxPoolSize=12", null, 12)]
    public void EachReplicasPoolIsBounded(string connectionString, string? setting, int expected)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration["ConnectionStrings:servicedb"] = connectionString;
        if (setting is not null)
        {
            builder.Configuration["Database:MaxPoolSize"] = setting;
        }

        builder.AddServiceDatabase("servicedb");
        using var services = builder.Build();

        var dataSource = services.Services.GetRequiredService<NpgsqlDataSource>();
        Assert.Equal(expected, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString).MaxPoolSize);
    }
}
