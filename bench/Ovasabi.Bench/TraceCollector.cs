using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ovasabi.Bench.Otlp;
using Ovasabi.Testing.Platform;
using YamlDotNet.RepresentationModel;

namespace Ovasabi.Bench;

/// <summary>One span an app exported.</summary>
internal sealed record CollectedSpan(string Service, string SpanId, string ParentId, string Name, ulong Start, ulong End, string Detail);

/// <summary>
/// An OTLP/HTTP trace receiver on loopback, for <c>--profile</c>: the apps export every span to it, and it keeps those of
/// the calls the benchmark marked (their trace IDs start with <see cref="Marker"/>), so the report can show where one
/// slow call spent its time.
/// </summary>
internal sealed class TraceCollector : IAsyncDisposable
{
    /// <summary>The first bytes of every marked trace ID (hex).</summary>
    public const string Marker = "0bec0bec";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, ConcurrentQueue<CollectedSpan>> _traces = new(StringComparer.Ordinal);
    private long _lastReceived = Stopwatch.GetTimestamp();

    private TraceCollector()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            Collect(ExportTraceServiceRequest.Parser.ParseFrom(body.ToArray()));
            return Results.Bytes(new ExportTraceServiceResponse().ToByteArray(), "application/x-protobuf");
        });
        // The apps export metrics too when an OTLP endpoint is set; they are not needed here.
        _app.MapPost("/v1/metrics", () => Results.Bytes([], "application/x-protobuf"));
    }

    /// <summary>Where the apps send their spans (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, protocol http/protobuf).</summary>
    public string Endpoint { get; private set; } = "";

    /// <summary>
    /// The local platform's sidecar Configuration (components/config.yaml) with its tracing exported here, as
    /// <c>spec.tracing.otel</c> says it for daprd; written to a temporary file.
    /// </summary>
    public string SidecarConfig { get; private set; } = "";

    public static async Task<TraceCollector> StartAsync()
    {
        var collector = new TraceCollector();
        await collector._app.StartAsync();
        collector.Endpoint = collector._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        collector.SidecarConfig = WriteSidecarConfig(new Uri(collector.Endpoint));
        return collector;
    }

    /// <summary>A new trace ID carrying the marker, and its traceparent header (sampled).</summary>
    public static (string TraceId, string TraceParent) NewMarkedTrace()
    {
        var traceId = Marker + ActivityTraceId.CreateRandom().ToHexString()[Marker.Length..];
        return (traceId, $"00-{traceId}-{ActivitySpanId.CreateRandom().ToHexString()}-01");
    }

    /// <summary>The spans of a trace, once none has arrived for a moment (the apps export in batches), at most after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<CollectedSpan>> SpansAsync(string traceId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && (!_traces.ContainsKey(traceId) || Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastReceived)) < TimeSpan.FromSeconds(1)))
        {
            await Task.Delay(200, cancellationToken);
        }
        return _traces.TryGetValue(traceId, out var spans) ? [.. spans.OrderBy(s => s.Start)] : [];
    }

    /// <summary>The spans as a table: offset from the first span, duration, app and span, nested by parent.</summary>
    public static string Waterfall(IReadOnlyList<CollectedSpan> spans)
    {
        if (spans.Count == 0)
        {
            return "No span of this call reached the collector.\n";
        }
        var byId = spans.GroupBy(s => s.SpanId).ToDictionary(g => g.Key, g => g.First());
        int Depth(CollectedSpan span)
        {
            var depth = 0;
            for (var parent = span.ParentId; byId.TryGetValue(parent, out var up) && depth < 32; parent = up.ParentId)
            {
                depth++;
            }
            return depth;
        }
        var origin = spans.Min(s => s.Start);
        var table = new StringBuilder("| start (ms) | took (ms) | app | span | detail |\n|--:|--:|---|---|---|\n");
        foreach (var span in spans)
        {
            table.Append(CultureInfo.InvariantCulture,
                $"| {(span.Start - origin) / 1e6:0.00} | {(span.End - span.Start) / 1e6:0.00} | {span.Service} | {new string('·', 2 * Depth(span))} {Cell(span.Name)} | {Cell(span.Detail)} |\n");
        }
        return table.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        File.Delete(SidecarConfig);
    }

    private static string WriteSidecarConfig(Uri endpoint)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(AppPlatform.AccessControlConfig))
        {
            yaml.Load(reader);
        }
        var spec = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode).Children[new YamlScalarNode("spec")];
        var tracing = (YamlMappingNode)spec.Children[new YamlScalarNode("tracing")];
        tracing.Children[new YamlScalarNode("otel")] = new YamlMappingNode(
            new YamlScalarNode("endpointAddress"), new YamlScalarNode($"{endpoint.Host}:{endpoint.Port}"),
            new YamlScalarNode("isSecure"), new YamlScalarNode("false"),
            new YamlScalarNode("protocol"), new YamlScalarNode("http"));
        var path = Path.Combine(Path.GetTempPath(), $"ovasabi-bench-config-{Environment.ProcessId}.yaml");
        using var writer = new StreamWriter(path);
        yaml.Save(writer, assignAnchors: false);
        return path;
    }

    private void Collect(ExportTraceServiceRequest request)
    {
        Interlocked.Exchange(ref _lastReceived, Stopwatch.GetTimestamp());
        foreach (var resource in request.ResourceSpans)
        {
            var attributes = resource.Resource?.Attributes;
            var service = attributes?.FirstOrDefault(a => a.Key == "service.name")?.Value?.StringValue ?? "?";
            // Every sidecar calls itself dapr-sidecar; its app ID tells them apart.
            if (attributes?.FirstOrDefault(a => a.Key == "dapr.app_id")?.Value?.StringValue is { } appId)
            {
                service = $"{appId}'s sidecar";
            }
            foreach (var span in resource.ScopeSpans.SelectMany(s => s.Spans))
            {
                var traceId = Convert.ToHexStringLower(span.TraceId.Span);
                if (!traceId.StartsWith(Marker, StringComparison.Ordinal))
                {
                    continue;
                }
                _traces.GetOrAdd(traceId, _ => new ConcurrentQueue<CollectedSpan>()).Enqueue(new CollectedSpan(
                    service, Convert.ToHexStringLower(span.SpanId.Span), Convert.ToHexStringLower(span.ParentSpanId.Span), span.Name,
                    span.StartTimeUnixNano, span.EndTimeUnixNano, Detail(span)));
            }
        }
    }

    // What tells one span from its siblings: the statement, the called method or address.
    private static string Detail(Span span)
    {
        foreach (var key in new[] { "db.query.text", "db.statement", "rpc.method", "url.full", "server.address" })
        {
            if (span.Attributes.FirstOrDefault(a => a.Key == key)?.Value?.StringValue is { Length: > 0 } value)
            {
                return value.Length > 140 ? value[..140] + "…" : value;
            }
        }
        return "";
    }

    private static string Cell(string text) => text.Replace('\n', ' ').Replace("|", "\\|", StringComparison.Ordinal);
}
