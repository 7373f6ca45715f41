using System.Diagnostics;
using System.Diagnostics.Metrics;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.Telemetry;

/// <summary>Instruments every app shares: gRPC server calls by status, cache hits and misses, outbox progress, events and job triggers handled.</summary>
public sealed class ServiceMetrics
{
    public const string MeterName = "Ovasabi.Service";

    private readonly Histogram<double> _rpcDuration;
    private readonly Counter<long> _cache;
    private readonly Counter<long> _published;
    private readonly Counter<long> _consumed;
    private readonly Counter<long> _jobs;
    private readonly string _service;

    public ServiceMetrics(IMeterFactory meters, ServiceOptions options)
    {
        _service = options.Name;
        var meter = meters.Create(MeterName);
        // OpenTelemetry's RPC semantic conventions, so dashboards for gRPC servers apply.
        _rpcDuration = meter.CreateHistogram<double>("rpc.server.duration", unit: "ms", description: "gRPC calls served, by method and status");
        _cache = meter.CreateCounter<long>("ovasabi.cache.lookups", description: "Cache lookups by entity and result (hit, miss, error)");
        _published = meter.CreateCounter<long>("ovasabi.outbox.published", description: "Events published from the outbox, by topic and outcome");
        _consumed = meter.CreateCounter<long>("ovasabi.events.consumed", description: "Events handled, by topic and outcome (success, duplicate, retry, drop)");
        _jobs = meter.CreateCounter<long>("ovasabi.jobs.triggered", description: "Jobs API triggers handled, by job name prefix and outcome (success, retry, drop, no-handler)");
    }

    public void RpcServed(string method, StatusCode code, TimeSpan elapsed)
    {
        var parts = method.Trim('/').Split('/');
        _rpcDuration.Record(elapsed.TotalMilliseconds,
            new("rpc.system", "grpc"), new("rpc.service", parts[0]), new("rpc.method", parts.Length > 1 ? parts[1] : ""),
            new("rpc.grpc.status_code", (int)code), new("service", _service));
    }

    public void CacheLookup(string entity, string result) => _cache.Add(1, new("entity", entity), new("result", result), new("service", _service));

    public void Published(string topic, bool success) => _published.Add(1, new("topic", topic), new("success", success), new("service", _service));

    public void JobTriggered(string namePrefix, string outcome) => _jobs.Add(1, new("job", namePrefix), new("outcome", outcome), new("service", _service));

    public void Consumed(string topic, string outcome) => _consumed.Add(1, new("topic", topic), new("outcome", outcome), new("service", _service));
}
