using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OpenTelemetry.Metrics;

namespace Platform.ServiceDefaults.Telemetry;

/// <summary>
/// Traces, metrics and logs from .NET's built-in sources (the instrumentation packages cannot be restored here),
/// collected and exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set.
/// </summary>
public static class OpenTelemetryExtensions
{
    /// <summary>The activity source and meter every Platform service writes its own telemetry to.</summary>
    public const string PlatformSourceName = "Platform";

    private static readonly string[] ActivitySources = ["Microsoft.AspNetCore", "System.Net.Http", "Npgsql", PlatformSourceName];

    private static readonly string[] Meters =
        ["Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http", "System.Runtime", "Npgsql", PlatformSourceName];

    public static IHostApplicationBuilder ConfigureOpenTelemetry(this IHostApplicationBuilder builder)
    {
        var exportOtlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName;

        // With nowhere to send them, recording spans and aggregating metrics would only cost every request CPU time;
        // the instruments stay in the code and cost next to nothing without a listener.
        if (!exportOtlp)
        {
            return builder;
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
            logging.SetResourceBuilder(ResourceBuilder.CreateDefault().AddService(serviceName));
            logging.AddOtlpExporter();
        });
        builder.Services.AddSingleton(_ => OpenTelemetrySdk.Create(otel =>
        {
            otel.ConfigureResource(resource => resource.AddService(serviceName));
            otel.WithTracing(tracing => tracing.AddSource(ActivitySources).AddProcessor(new HealthProbeFilter()).AddOtlpExporter());
            otel.WithMetrics(metrics => metrics.AddMeter(Meters).AddOtlpExporter());
        }));
        builder.Services.AddHostedService<OpenTelemetryLifetime>();
        return builder;
    }

    /// <summary>Keeps probe requests out of traces: they are frequent and say nothing.</summary>
    private sealed class HealthProbeFilter : BaseProcessor<Activity>
    {
        public override void OnEnd(Activity data)
        {
            var path = data.GetTagItem("url.path") as string ?? data.GetTagItem("http.route") as string;
            if (path is Extensions.HealthEndpointPath or Extensions.AlivenessEndpointPath)
            {
                data.ActivityTraceFlags &= ~ActivityTraceFlags.Recorded;
            }
        }
    }

    /// <summary>Creates the SDK when the host starts and flushes it when the host stops.</summary>
    private sealed class OpenTelemetryLifetime(OpenTelemetrySdk sdk) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken)
        {
            sdk.TracerProvider.ForceFlush(2000);
            sdk.MeterProvider.ForceFlush(2000);
            return Task.CompletedTask;
        }
    }
}
