using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Ovasabi.DevSidecar.Hosting;
using Ovasabi.DevSidecar.Resources;

namespace Ovasabi.DevSidecar.Observability;

public static class Telemetry
{
    /// <summary>
    /// Traces sampled at the Configuration's <c>tracing.samplingRate</c> (unsampled calls still carry and propagate a
    /// traceparent) and exported over OTLP when <c>tracing.otel.endpointAddress</c> is set; metrics for the Prometheus endpoint.
    /// </summary>
    public static void AddSidecarTelemetry(this IServiceCollection services, SidecarOptions options, SidecarConfiguration configuration)
    {
        var otel = configuration.Spec.Tracing?.Otel;
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("dapr-sidecar", serviceInstanceId: options.AppId).AddAttributes([new("dapr.app_id", options.AppId)]))
            .WithTracing(tracing =>
            {
                tracing
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(configuration.SamplingRate)))
                    .AddSource(SidecarMetrics.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation();
                if (!string.IsNullOrEmpty(otel?.EndpointAddress))
                {
                    var protocol = string.Equals(otel.Protocol, "http", StringComparison.OrdinalIgnoreCase) ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
                    var scheme = otel.IsSecure == true ? "https" : "http";
                    var address = otel.EndpointAddress.Contains("://", StringComparison.Ordinal) ? otel.EndpointAddress : $"{scheme}://{otel.EndpointAddress}";
                    tracing.AddOtlpExporter(o =>
                    {
                        o.Protocol = protocol;
                        o.Endpoint = new Uri(protocol == OtlpExportProtocol.HttpProtobuf && !address.EndsWith("/v1/traces", StringComparison.Ordinal)
                            ? address.TrimEnd('/') + "/v1/traces"
                            : address);
                    });
                }
            })
            .WithMetrics(metrics => metrics
                .AddMeter(SidecarMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                // daprd's Prometheus names carry no unit or _total suffix (dapr_component_pubsub_egress_count), so
                // dashboards and alerts written for daprd keep matching.
                .AddPrometheusExporter(o => o.TranslationStrategy = PrometheusAspNetCoreTranslationStrategy.UnderscoreEscapingWithoutSuffixes));
    }
}
