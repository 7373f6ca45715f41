using OpenTelemetry;
using OpenTelemetry.Context.Propagation;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Ovasabi.DevSidecar.Components.Bindings;
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
        Sdk.SetDefaultTextMapPropagator(new BindingAwarePropagator(new CompositeTextMapPropagator([new TraceContextPropagator(), new BaggagePropagator()])));
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("dapr-sidecar", serviceInstanceId: options.AppId).AddAttributes([new("dapr.app_id", options.AppId)]))
            .WithTracing(tracing =>
            {
                tracing
                    .SetSampler(new ParentBasedSampler(new TraceIdRatioBasedSampler(configuration.SamplingRate)))
                    .AddSource(SidecarMetrics.MeterName)
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = r => !IsBindingRequest(r));
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

    private static bool IsBindingRequest(HttpRequestMessage request) => request.Options.TryGetValue(HttpBinding.Untraced, out _);

    /// <summary>
    /// W3C trace context and baggage, except on bindings.http's requests: the HttpClient instrumentation would
    /// overwrite the trace headers the binding took from its metadata with a client span of the sidecar's.
    /// </summary>
    private sealed class BindingAwarePropagator(TextMapPropagator inner) : TextMapPropagator
    {
        public override ISet<string>? Fields => inner.Fields;

        public override void Inject<T>(PropagationContext context, T carrier, Action<T, string, string> setter)
        {
            if (!(carrier is HttpRequestMessage request && IsBindingRequest(request)))
            {
                inner.Inject(context, carrier, setter);
            }
        }

        public override PropagationContext Extract<T>(PropagationContext context, T carrier, Func<T, string, IEnumerable<string>?> getter) =>
            inner.Extract(context, carrier, getter);
    }
}
