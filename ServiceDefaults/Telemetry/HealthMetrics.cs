using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Platform.ServiceDefaults.Telemetry;

/// <summary>
/// Each health check's last result as <c>platform.health.check.status</c> (1 healthy, 0.5 degraded, 0 unhealthy),
/// labelled by check: what alerts on PostgreSQL or Redis being down read.
/// </summary>
internal sealed class HealthMetrics : IHealthCheckPublisher
{
    private static readonly Meter Meter = new(Microsoft.Extensions.Hosting.Extensions.PlatformSourceName);
    private readonly ConcurrentDictionary<string, double> _statuses = new(StringComparer.Ordinal);

    public HealthMetrics() =>
        Meter.CreateObservableGauge("platform.health.check.status",
            () => _statuses.Select(s => new Measurement<double>(s.Value, new KeyValuePair<string, object?>("check", s.Key))),
            description: "The last result of each health check: 1 healthy, 0.5 degraded, 0 unhealthy");

    public Task PublishAsync(HealthReport report, CancellationToken cancellationToken)
    {
        foreach (var (name, entry) in report.Entries)
        {
            _statuses[name] = entry.Status switch
            {
                HealthStatus.Healthy => 1,
                HealthStatus.Degraded => 0.5,
                _ => 0,
            };
        }

        return Task.CompletedTask;
    }
}
