using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StackExchange.Redis;

namespace Microsoft.Extensions.Hosting;

/// <summary>Aspire.StackExchange.Redis's client integration, with its names and configuration keys.</summary>
public static class RedisExtensions
{
    public static IHostApplicationBuilder AddRedisClient(this IHostApplicationBuilder builder, string connectionName)
    {
        var connectionString = builder.Configuration.GetConnectionString(connectionName)
            ?? builder.Configuration[$"Aspire:StackExchange:Redis:{connectionName}:ConnectionString"]
            ?? builder.Configuration["Aspire:StackExchange:Redis:ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionString is missing. It should be provided in 'ConnectionStrings:{connectionName}' or under the 'ConnectionString' key in 'Aspire:StackExchange:Redis' configuration section.");
        }

        var options = ConfigurationOptions.Parse(connectionString);
        // Keep retrying in the background rather than failing start-up while Redis is still coming up.
        options.AbortOnConnectFail = false;
        builder.Services.AddSingleton<IConnectionMultiplexer>(_ => ConnectionMultiplexer.Connect(options));
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            $"StackExchange.Redis_{connectionName}",
            sp => new RedisHealthCheck(sp.GetRequiredService<IConnectionMultiplexer>()),
            HealthStatus.Unhealthy,
            ["ready"],
            TimeSpan.FromSeconds(5)));
        return builder;
    }

    private sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                await redis.GetDatabase().PingAsync();
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is RedisException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy("Redis is unreachable", e);
            }
        }
    }
}
