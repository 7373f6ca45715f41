using System.Diagnostics;
using System.Diagnostics.Metrics;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Observability;

/// <summary>The sidecar's own instruments, named after daprd's metrics so dashboards carry over.</summary>
public sealed class SidecarMetrics
{
    public const string MeterName = "Ovasabi.DevSidecar";
    public static readonly ActivitySource ActivitySource = new(MeterName);

    private readonly string _appId;
    private readonly Counter<long> _egress;
    private readonly Counter<long> _ingress;
    private readonly Counter<long> _invocations;
    private readonly Counter<long> _bindings;
    private readonly Histogram<double> _deliveryLatency;

    public SidecarMetrics(IMeterFactory meterFactory, SidecarOptions options)
    {
        _appId = options.AppId;
        var meter = meterFactory.Create(MeterName);
        _egress = meter.CreateCounter<long>("dapr_component_pubsub_egress_count", description: "Messages published, by component, topic and outcome");
        _ingress = meter.CreateCounter<long>("dapr_component_pubsub_ingress_count", description: "Messages delivered to the app, by component, topic and process status");
        _invocations = meter.CreateCounter<long>("dapr_service_invocation_req_sent_total", description: "Service invocations sent, by target app and status");
        _bindings = meter.CreateCounter<long>("dapr_component_output_binding_count", description: "Output binding calls, by component, operation and outcome");
        _deliveryLatency = meter.CreateHistogram<double>("dapr_component_pubsub_ingress_latencies", unit: "ms", description: "Time the app took to process a message");
    }

    public void Published(string component, string topic, bool success) =>
        _egress.Add(1, new("app_id", _appId), new("component", component), new("topic", topic), new("success", success));

    public void Delivered(string component, string topic, string status, TimeSpan elapsed)
    {
        _ingress.Add(1, new("app_id", _appId), new("component", component), new("topic", topic), new("process_status", status));
        _deliveryLatency.Record(elapsed.TotalMilliseconds, new("app_id", _appId), new("component", component), new("topic", topic), new("process_status", status));
    }

    public void Invoked(string target, int status) =>
        _invocations.Add(1, new("app_id", _appId), new("destination_app_id", target), new("status", status));

    public void BindingCalled(string component, string operation, bool success) =>
        _bindings.Add(1, new("app_id", _appId), new("component", component), new("operation", operation), new("success", success));
}
