using System.Net;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe.V1;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>/metrics on the management port: Prometheus text with the library's instruments.</summary>
[Collection(MetricsCollection.Name)]
public sealed class MetricsTests(ProbePlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ProbeHost Probe => platform.Probe;

    [Fact]
    public async Task Metrics_answers_in_the_Prometheus_text_format()
    {
        using var response = await Probe.Management.GetAsync("/metrics", Cancel);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE ", await response.Content.ReadAsStringAsync(Cancel), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rpc_server_duration_is_recorded_per_probe_method_and_status()
    {
        await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("metered") }, cancellationToken: Cancel);
        await Assert.ThrowsAsync<RpcException>(async () => await Probe.Probe.FailAsync(new FailRequest { Kind = "not_found" }, cancellationToken: Cancel));

        var metrics = await ScrapeUntilAsync(text => Duration(text, "Fail", "5") >= 1 && Duration(text, "CreateItem", "0") >= 1, "rpc_server_duration for CreateItem (OK) and Fail (NotFound)");

        Assert.Contains("# TYPE rpc_server_duration_milliseconds histogram", metrics, StringComparison.Ordinal);
        Assert.All(Prometheus.Samples(metrics, "rpc_server_duration_milliseconds_count").Where(s => s.Labels.Contains("rpc_method=\"CreateItem\"", StringComparison.Ordinal)),
            s => Assert.Contains("rpc_service=\"ovasabi.probe.v1.Probe\",rpc_system=\"grpc\",service=\"probe\"", s.Labels, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Events_consumed_are_counted_by_topic_and_outcome()
    {
        var topic = platform.Topics.Signal;
        var id = Guid.NewGuid().ToString();
        var before = await ScrapeAsync();

        await DeliverAsync(topic, id, """{"key":"counted"}""");
        await DeliverAsync(topic, id, """{"key":"counted"}""");
        await DeliverAsync(topic, Guid.NewGuid().ToString(), """{"key":"refused","behavior":"domain"}""");
        await DeliverAsync(topic, Guid.NewGuid().ToString(), """{"key":"flaky","behavior":"transient","failTimes":1}""");

        var after = await ScrapeUntilAsync(text => Consumed(text, topic, "retry") > Consumed(before, topic, "retry"), "ovasabi_events_consumed for the retry");
        Assert.Equal(
            (1d, 1d, 1d, 1d),
            (Consumed(after, topic, "success") - Consumed(before, topic, "success"),
             Consumed(after, topic, "duplicate") - Consumed(before, topic, "duplicate"),
             Consumed(after, topic, "drop") - Consumed(before, topic, "drop"),
             Consumed(after, topic, "retry") - Consumed(before, topic, "retry")));
    }

    [Fact]
    public async Task Cache_lookups_are_counted_as_misses_and_hits()
    {
        var item = await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("looked-up") }, cancellationToken: Cancel);
        var before = await ScrapeAsync();

        await Probe.Probe.GetItemAsync(new GetItemRequest { ItemId = item.ItemId, TtlSeconds = 60 }, cancellationToken: Cancel);
        await Probe.Probe.GetItemAsync(new GetItemRequest { ItemId = item.ItemId, TtlSeconds = 60 }, cancellationToken: Cancel);

        var after = await ScrapeUntilAsync(text => Lookups(text, "hit") > Lookups(before, "hit"), "ovasabi_cache_lookups for the hit");
        Assert.Equal((1d, 1d), (Lookups(after, "miss") - Lookups(before, "miss"), Lookups(after, "hit") - Lookups(before, "hit")));
    }

    [Fact]
    public async Task Published_outbox_events_are_counted_by_topic()
    {
        var item = await Probe.Probe.CreateItemAsync(new CreateItemRequest { Name = Names.Unique("counted"), Topic = platform.Topics.Counted }, cancellationToken: Cancel);
        await Eventually.Async(() => platform.OutboxRowAsync(item.EventId), r => r!.PublishedAt is not null, "the event to be published");

        var metrics = await ScrapeUntilAsync(text => Published(text) > 0, "ovasabi_outbox_published for the event");
        Assert.Equal(1d, Published(metrics));
    }

    private Task<string> ScrapeAsync() => Probe.Management.GetStringAsync("/metrics", Cancel);

    /// <summary>Scrapes until <paramref name="done"/> holds (the exporter serves a snapshot that may be a moment old).</summary>
    private Task<string> ScrapeUntilAsync(Func<string, bool> done, string what) =>
        Eventually.Async(ScrapeAsync, done, what, TimeSpan.FromSeconds(30));

    private static double Duration(string metrics, string method, string code) =>
        Prometheus.Sum(metrics, "rpc_server_duration_milliseconds_count", ("rpc_method", method), ("rpc_grpc_status_code", code));

    private static double Consumed(string metrics, string topic, string outcome) =>
        Prometheus.Sum(metrics, "ovasabi_events_consumed_total", ("topic", topic), ("outcome", outcome), ("service", "probe"));

    private static double Lookups(string metrics, string result) =>
        Prometheus.Sum(metrics, "ovasabi_cache_lookups_total", ("entity", "item"), ("result", result));

    private double Published(string metrics) =>
        Prometheus.Sum(metrics, "ovasabi_outbox_published_total", ("topic", platform.Topics.Counted), ("success", "true"));

    private async Task DeliverAsync(string topic, string id, string payload) =>
        await Probe.Callback.OnTopicEventAsync(new TopicEventRequest
        {
            Id = id,
            Source = "metrics-tests",
            Type = topic,
            SpecVersion = "1.0",
            DataContentType = "application/json",
            Data = ByteString.CopyFromUtf8(payload),
            Topic = topic,
            PubsubName = "pubsub",
        }, Cancel);
}
