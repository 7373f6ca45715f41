using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.Telemetry;

public static class TelemetryExtensions
{
    /// <summary>
    /// Traces (ASP.NET Core incl. gRPC, gRPC client, HttpClient, Npgsql) and metrics (the same, the runtime's and the service's own)
    /// for Prometheus at /metrics; OTLP export when OTEL_EXPORTER_OTLP_ENDPOINT is set. Logs are JSON lines that carry
    /// the trace and span ids.
    /// </summary>
    public static void AddServiceTelemetry(this WebApplicationBuilder builder, ServiceOptions options)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(json =>
        {
            json.IncludeScopes = true;
            json.UseUtcTimestamp = true;
            json.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
        });
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        // Per-request and per-statement chatter stays out of production logs (the outbox polls every second);
        // configuration (Logging:LogLevel) can turn it back on.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);

        var otlp = !string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddSingleton<ServiceMetrics>();
        var telemetry = builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService(options.Name));
        // Spans are recorded only when they go somewhere: without an exporter, recording every request, gRPC call and
        // SQL statement cost CPU on every call and was thrown away. Trace ids still flow (W3C traceparent) and reach
        // the logs and the audit, since ASP.NET Core starts an activity per request for its logging.
        if (otlp)
        {
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsManagement(context.Request.Path))
                .AddGrpcClientInstrumentation()
                .AddHttpClientInstrumentation()
                .AddNpgsql()
                .AddOtlpExporter());
        }
        telemetry
            .WithMetrics(metrics =>
            {
                // System.Runtime: the runtime's own (GC, thread pool, JIT, exceptions), built into .NET 9 and later.
                metrics.AddMeter(ServiceMetrics.MeterName, "System.Runtime")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddPrometheusExporter();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
    }

    private static bool IsManagement(Microsoft.AspNetCore.Http.PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");
}
