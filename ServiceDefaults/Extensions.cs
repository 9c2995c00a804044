using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Platform.ServiceDefaults.Authentication;
using Platform.ServiceDefaults.Http;
using Platform.ServiceDefaults.Telemetry;
using Platform.ServiceDefaults.Text;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every Platform service shares, in the shape of the Aspire ServiceDefaults template: OpenTelemetry, health,
/// service discovery and the standard resilience handler; plus what is ours: problem details, API-key authentication
/// with key propagation to other services, and OpenAPI documents.
/// </summary>
public static class Extensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";
    public const string MetricsEndpointPath = "/metrics";

    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>The activity source and meter every Platform service writes its own telemetry to.</summary>
    public const string PlatformSourceName = "Platform";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        RegexMatchTimeout.Apply();
        builder.ConfigureLogging();
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddProblemDetails();
        builder.Services.AddOptions<ErrorShapeOptions>();
        builder.Services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Bodies are small JSON documents; an endpoint that takes more says so with RequestSizeLimit.
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = DefaultMaxRequestBodyBytes);
        // Throw on bad input in every environment, so the handler above can say what was wrong.
        builder.Services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi();
        builder.AddApiKeyAuthentication();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddApiKeyPropagation();
            http.AddStandardResilienceHandler(IdempotentRetries.Configure);
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>
    /// Metrics for Prometheus at <c>/metrics</c> always; logs, traces and metrics over OTLP too when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, as the AppHost sets it for the Aspire dashboard. With nowhere to send
    /// them, recording spans would only cost every request CPU time.
    /// </summary>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(PlatformSourceName)
                .AddPrometheusExporter());
        builder.Services.AddSingleton<IHealthCheckPublisher, HealthMetrics>();
        if (!builder.ExportsTelemetry())
        {
            return builder;
        }

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        telemetry
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName, PlatformSourceName)
                .AddAspNetCoreInstrumentation(aspNetCore => aspNetCore.Filter = context =>
                    !context.Request.Path.StartsWithSegments(HealthEndpointPath) && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath)
                    && !context.Request.Path.StartsWithSegments(MetricsEndpointPath))
                .AddHttpClientInstrumentation())
            .UseOtlpExporter();
        return builder;
    }

    /// <summary>Whether logs, traces and metrics go anywhere over OTLP (the AppHost sets the endpoint for the Aspire dashboard).</summary>
    public static bool ExportsTelemetry(this IHostApplicationBuilder builder) => !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (readiness: every check, Postgres and Redis included) and <c>/alive</c> (liveness), the
    /// OpenAPI document, <c>/metrics</c> for Prometheus (a system tenant key with the metrics scope), and the error
    /// handling every endpoint relies on. Unlike the Aspire template these are mapped
    /// in every environment, because Kubernetes probes need them; both are cheap.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages(context => ErrorResponses.WriteStatusAsync(context.HttpContext));
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<InputGuardMiddleware>();

        app.MapHealthChecks(HealthEndpointPath, new HealthCheckOptions { ResponseWriter = HealthReportWriter.WriteAsync }).AllowAnonymous();
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") }).AllowAnonymous();
        app.MapOpenApi().AllowAnonymous();
        app.MapPrometheusScrapingEndpoint(MetricsEndpointPath).RequireAuthorization(policy => policy
            .AddAuthenticationSchemes(ApiKeyAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser()
            .RequireAssertion(context => context.User.CanReadMetrics()));
        return app;
    }

    private static void ConfigureLogging(this IHostApplicationBuilder builder)
    {
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.ClearProviders();
        if (builder.Environment.IsDevelopment())
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
        }
        else
        {
            // One JSON object per line, with the trace id in its scopes, for log collectors.
            builder.Logging.AddJsonConsole(o => { o.IncludeScopes = true; o.UseUtcTimestamp = true; });
        }
    }
}
