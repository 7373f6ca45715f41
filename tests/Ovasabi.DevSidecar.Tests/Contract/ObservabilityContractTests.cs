using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using Dapr.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Infrastructure.Markers;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>A tiny OTLP/HTTP receiver: records every POST (path, content type, body) and answers an empty export response.</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    public sealed record Export(string Path, string ContentType, byte[] Body);

    private readonly ConcurrentQueue<Export> _exports = new();
    private WebApplication? _app;

    public int Port { get; } = FreePort.Next();

    public IReadOnlyList<Export> Exports => [.. _exports];

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, Port));
        _app = builder.Build();
        _app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            _exports.Enqueue(new Export(context.Request.Path.Value ?? "", context.Request.ContentType ?? "", body.ToArray()));
            return Results.Bytes([], "application/x-protobuf");
        });
        await _app.StartAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }
}

/// <summary>A sidecar with redis pub/sub, tracing to an in-process OTLP receiver, and a gRPC app subscribed to one topic.</summary>
public sealed class ObservabilitySidecar(RedisServer redis) : SidecarFixture
{
    public const string PubSub = "pubsub";
    public const string Topic = "traced";

    public OtlpReceiver Otlp { get; } = new();

    public SidecarProcess Sidecar { get; private set; } = null!;

    public CallbackApp App { get; private set; } = null!;

    public DaprClient Client { get; private set; } = null!;

    protected override async Task StartAsync()
    {
        await Own(Otlp).StartAsync();
        Resources.RedisPubSub(PubSub, redis).Add("tracing.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Configuration
            metadata:
              name: tracing
            spec:
              tracing:
                samplingRate: "1"
                otel:
                  endpointAddress: 127.0.0.1:{Otlp.Port}
                  protocol: http
                  isSecure: false
            """);
        App = Own(await CallbackApp.StartAsync(UniqueName.Create("observed"), app => app.Subscribe(PubSub, Topic)));
        Sidecar = Own(await SidecarProcess.StartAsync(new SidecarLaunch(App.AppId, Resources.Directory)
        {
            AppPort = App.Port,
            ConfigFile = Resources.PathOf("tracing.yaml"),
        }));
        await Sidecar.WaitReadyAsync();
        Client = ClientOf(Sidecar);
    }
}

/// <summary>Metrics in daprd's Prometheus names, W3C trace context through pub/sub, and OTLP span export.</summary>
public sealed class ObservabilityContractTests(ObservabilitySidecar fixture) : IClassFixture<ObservabilitySidecar>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("/")]
    [InlineData("/metrics")]
    public async Task The_metrics_port_serves_daprd_named_pubsub_egress_counters_after_a_publish(string path)
    {
        await fixture.Client.PublishEventAsync(ObservabilitySidecar.PubSub, ObservabilitySidecar.Topic, new { marker = Marker() }, Cancel);
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fixture.Sidecar.MetricsPort}") };
        var line = new Regex($"^dapr_component_pubsub_egress_count\\{{[^}}]*component=\"{ObservabilitySidecar.PubSub}\"[^}}]*\\}} [1-9]", RegexOptions.Multiline);

        var text = await EventuallyAsync(async () =>
        {
            var body = await metrics.GetStringAsync(path, Cancel);
            return line.IsMatch(body) ? body : null;
        }, "a dapr_component_pubsub_egress_count sample for the publish");

        Assert.Contains("# TYPE dapr_component_pubsub_egress_count counter", text, StringComparison.Ordinal);
        Assert.DoesNotContain("dapr_component_pubsub_egress_count_total", text, StringComparison.Ordinal);
        Assert.Matches($"dapr_component_pubsub_egress_count\\{{[^}}]*app_id=\"{fixture.Sidecar.AppId}\"", text);
    }

    [Fact]
    public async Task The_trace_of_a_publish_reaches_the_subscriber_in_the_CloudEvent_and_as_grpc_traceparent()
    {
        var marker = Marker();
        var traceId = await PublishTracedAsync(marker);

        var delivered = Assert.Single(await fixture.App.WaitForAsync(r => r.Kind == "event" && r.Event.Data.ToStringUtf8().Contains(marker, StringComparison.Ordinal)));

        var extensions = delivered.Event.Extensions.Fields;
        Assert.Equal(traceId, TraceIdOf(extensions["traceparent"].StringValue));
        Assert.Equal(traceId, TraceIdOf(extensions["traceid"].StringValue));
        Assert.Equal(traceId, TraceIdOf(delivered.Headers["traceparent"]));
    }

    [Fact]
    public async Task Spans_are_exported_as_OTLP_http_protobuf_to_v1_traces_with_the_publish_trace_id()
    {
        var traceId = await PublishTracedAsync(Marker());
        var traceIdBytes = Convert.FromHexString(traceId);

        var export = await EventuallyAsync(() => Task.FromResult(
            fixture.Otlp.Exports.FirstOrDefault(e => e.Body.AsSpan().IndexOf(traceIdBytes) >= 0)), $"an OTLP export holding trace {traceId}");

        Assert.Equal("/v1/traces", export.Path);
        Assert.Equal("application/x-protobuf", export.ContentType);
    }

    /// <summary>Publishes through the SDK inside a sampled W3C activity, as an instrumented app does; returns the trace ID.</summary>
    private async Task<string> PublishTracedAsync(string marker)
    {
        using var activity = new Activity("contract-publish");
        activity.SetIdFormat(ActivityIdFormat.W3C);
        activity.SetParentId(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded);
        activity.Start();
        await fixture.Client.PublishEventAsync(ObservabilitySidecar.PubSub, ObservabilitySidecar.Topic, new { marker }, Cancel);
        activity.Stop();
        return activity.TraceId.ToHexString();
    }

    private static string Marker() => Guid.NewGuid().ToString("N");

    private static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe, string what) where T : class
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"no {what} within {Patience.TotalSeconds} s");
            }
            await Task.Delay(250, Cancel);
        }
    }
}
