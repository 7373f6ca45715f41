using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Ovasabi.ServiceDefaults.Tests.Platform;
using Ovasabi.ServiceDefaults.Tests.Probe;
using EventStatus = Dapr.AppCallback.Autogen.Grpc.v1.TopicEventResponse.Types.TopicEventResponseStatus;

namespace Ovasabi.ServiceDefaults.Tests.Tests;

/// <summary>
/// The library's AppCallback service: it lists the handlers' topics and delivers each event through the inbox, answering
/// SUCCESS (also for a duplicate), DROP or RETRY. First as the sidecar calls it, then through real pub/sub.
/// </summary>
[Collection(ProbeCollection.Name)]
public sealed class InboxTests(ProbePlatform platform)
{
    private const string PubSub = "pubsub";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private ProbeTopics Topics => platform.Topics;

    [Fact]
    public async Task ListTopicSubscriptions_lists_each_handler_topic_with_its_dead_letter_topic()
    {
        var response = await platform.Probe.Callback.ListTopicSubscriptionsAsync(Cancel);

        var subscriptions = response.Subscriptions.OrderBy(s => s.Topic, StringComparer.Ordinal)
            .Select(s => (s.PubsubName, s.Topic, s.DeadLetterTopic)).ToList();
        Assert.Equal([(PubSub, Topics.Note, ""), (PubSub, Topics.Signal, Topics.SignalDeadLetter)], subscriptions);
    }

    [Fact]
    public async Task An_event_is_handled_and_recorded_in_the_inbox_in_one_transaction()
    {
        var id = Guid.NewGuid().ToString();

        var status = await DeliverAsync(Topics.Signal, id, """{"key":"plain"}""");

        Assert.Equal(EventStatus.Success, status);
        Assert.Equal(1, await HandledAsync(id));
        Assert.Equal(1, await InboxAsync(id, Topics.Signal));
    }

    [Fact]
    public async Task The_same_event_id_delivered_again_is_SUCCESS_without_handling_it_again()
    {
        var id = Guid.NewGuid().ToString();

        var first = await DeliverAsync(Topics.Signal, id, """{"key":"twice"}""");
        var second = await DeliverAsync(Topics.Signal, id, """{"key":"twice"}""");

        Assert.Equal((EventStatus.Success, EventStatus.Success), (first, second));
        Assert.Equal(1, await HandledAsync(id));
        Assert.Equal(1, Deliveries(id));
    }

    [Fact]
    public async Task The_same_event_id_delivered_again_while_the_first_is_still_being_handled_is_SUCCESS_and_handled_once()
    {
        var id = Guid.NewGuid().ToString();

        // The first delivery to save keeps its inbox transaction open until all three reached the handler: the other
        // two passed the "already handled?" check as well and meet it at the inbox's unique key.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            DeliverAsync(Topics.Signal, id, """{"key":"racing","behavior":"hold","holdFor":3}""")));

        Assert.All(statuses, s => Assert.Equal(EventStatus.Success, s));
        Assert.Equal(3, Deliveries(id));
        Assert.Equal(1, await HandledAsync(id));
        Assert.Equal(1, await InboxAsync(id, Topics.Signal));
    }

    [Theory]
    [InlineData("this is not json")]
    [InlineData("""{"key":"k","noSuchField":true}""")]
    [InlineData("""{"failTimes":"many"}""")]
    [InlineData("")]
    public async Task A_payload_that_is_not_the_handlers_message_is_DROP_and_not_recorded(string payload)
    {
        var id = Guid.NewGuid().ToString();

        var status = await DeliverAsync(Topics.Signal, id, payload);

        Assert.Equal(EventStatus.Drop, status);
        Assert.Equal(0, Deliveries(id));
        Assert.Equal(0, await InboxAsync(id, Topics.Signal));
    }

    [Fact]
    public async Task A_handler_domain_error_is_DROP_and_rolls_back_what_the_handler_saved()
    {
        var id = Guid.NewGuid().ToString();

        var status = await DeliverAsync(Topics.Signal, id, """{"key":"refused","behavior":"domain"}""");

        Assert.Equal(EventStatus.Drop, status);
        Assert.Equal(1, Deliveries(id));
        Assert.Equal(0, await HandledAsync(id));
        Assert.Equal(0, await InboxAsync(id, Topics.Signal));
    }

    [Fact]
    public async Task A_transient_handler_error_is_RETRY_rolls_back_and_the_redelivery_is_handled()
    {
        var id = Guid.NewGuid().ToString();
        const string payload = """{"key":"flaky","behavior":"transient","failTimes":1}""";

        var first = await DeliverAsync(Topics.Signal, id, payload);
        var handledAfterFirst = await HandledAsync(id);
        var inboxAfterFirst = await InboxAsync(id, Topics.Signal);
        var second = await DeliverAsync(Topics.Signal, id, payload);

        Assert.Equal(EventStatus.Retry, first);
        Assert.Equal((0L, 0L), (handledAfterFirst, inboxAfterFirst));
        Assert.Equal(EventStatus.Success, second);
        Assert.Equal(1, await HandledAsync(id));
        Assert.Equal(1, await InboxAsync(id, Topics.Signal));
    }

    [Fact]
    public async Task An_event_on_a_topic_without_a_handler_is_DROP()
    {
        var status = await DeliverAsync(Topics.Prefix + ".nobody.listens", Guid.NewGuid().ToString(), """{"key":"k"}""");

        Assert.Equal(EventStatus.Drop, status);
    }

    [Fact]
    public async Task A_published_event_is_handled_once()
    {
        var id = Guid.NewGuid().ToString();

        await PublishAsync(Topics.Signal, id, new { key = "published" });

        await Eventually.Async(() => HandledAsync(id), n => n == 1, "the published signal to be handled", context: Logs);
        await AfterLaterNotesHandledAsync();
        Assert.Equal(1, await HandledAsync(id));
        Assert.Equal(1, Deliveries(id));
    }

    [Fact]
    public async Task The_same_CloudEvent_id_published_twice_is_handled_once_and_the_second_is_answered_SUCCESS_as_duplicate()
    {
        var id = Guid.NewGuid().ToString();
        var answeredBefore = await SidecarDeliveriesAsync(Topics.Note, "success");

        await PublishAsync(Topics.Note, id, new { key = "first" });
        await Eventually.Async(() => HandledAsync(id), n => n == 1, "the first publication to be handled", context: Logs);
        await PublishAsync(Topics.Note, id, new { key = "second" });

        // The sidecar saw SUCCESS for both deliveries, and the handler ran for the first only.
        await Eventually.Async(() => SidecarDeliveriesAsync(Topics.Note, "success"), n => n == answeredBefore + 2, "both publications to be answered SUCCESS", context: Logs);
        Assert.Equal(1, await HandledAsync(id));
        Assert.Equal(1, Deliveries(id));
        Assert.Equal(1, await InboxAsync(id, Topics.Note));
    }

    [Fact]
    public async Task An_unparseable_published_payload_is_dropped_to_the_dead_letter_topic()
    {
        var id = Guid.NewGuid().ToString();

        await PublishAsync(Topics.Signal, id, new { key = "k", failTimes = "not a number" });

        var dead = Assert.Single(await DeadLettersAsync(id));
        Assert.Contains("not a number", dead.Event.Data.ToStringUtf8(), StringComparison.Ordinal);
        Assert.Equal(0, Deliveries(id));
        Assert.Equal(0, await InboxAsync(id, Topics.Signal));
    }

    [Fact]
    public async Task A_published_event_the_handler_refuses_is_dropped_to_the_dead_letter_topic_without_retries()
    {
        var id = Guid.NewGuid().ToString();

        await PublishAsync(Topics.Signal, id, new { key = "refused", behavior = "domain" });

        Assert.Single(await DeadLettersAsync(id));
        Assert.Equal(1, Deliveries(id));
        Assert.Equal(0, await HandledAsync(id));
    }

    [Fact]
    public async Task A_published_event_that_fails_transiently_is_retried_by_the_inbound_policy_and_handled_once()
    {
        var id = Guid.NewGuid().ToString();

        await PublishAsync(Topics.Signal, id, new { key = "flaky", behavior = "transient", failTimes = 2 });

        await Eventually.Async(() => HandledAsync(id), n => n == 1, "the retried signal to be handled", context: Logs);
        await AfterLaterNotesHandledAsync();
        Assert.Equal(1, await HandledAsync(id));
        Assert.Equal(3, Deliveries(id));
        Assert.Empty(platform.Seen(Topics.SignalDeadLetter, id));
    }

    private async Task<EventStatus> DeliverAsync(string topic, string id, string payload)
    {
        var response = await platform.Probe.Callback.OnTopicEventAsync(new TopicEventRequest
        {
            Id = id,
            Source = "inbox-tests",
            Type = topic,
            SpecVersion = "1.0",
            DataContentType = "application/json",
            Data = ByteString.CopyFromUtf8(payload),
            Topic = topic,
            PubsubName = PubSub,
        }, Cancel);
        return response.Status;
    }

    private Task PublishAsync(string topic, string id, object data) =>
        platform.Publisher.PublishEventAsync(PubSub, topic, data, new Dictionary<string, string> { ["cloudevent.id"] = id }, Cancel);

    private Task<IReadOnlyList<Testing.Sidecars.Received>> DeadLettersAsync(string id) =>
        platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == Topics.SignalDeadLetter && r.Event.Id == id, 1, TimeSpan.FromSeconds(60));

    /// <summary>Publishes a note and waits until it is handled: deliveries published before it had their chance too.</summary>
    private async Task AfterLaterNotesHandledAsync()
    {
        var marker = Guid.NewGuid().ToString();
        await PublishAsync(Topics.Note, marker, new { key = "marker" });
        await Eventually.Async(() => HandledAsync(marker), n => n == 1, "a later note to be handled", context: Logs);
    }

    private int Deliveries(string id) => platform.Probe.Services.GetRequiredService<DeliveryCounter>().Of(id);

    private Task<long> HandledAsync(string id) =>
        platform.CountAsync("SELECT count(*) FROM probe_handled_event WHERE event_id = @id", ("id", id));

    private Task<long> InboxAsync(string id, string topic) =>
        platform.CountAsync("SELECT count(*) FROM processed_message WHERE message_id = @id AND consumer = @topic", ("id", id), ("topic", topic));

    /// <summary>The deliveries on <paramref name="topic"/> the probe's sidecar counted with this outcome (its own metrics).</summary>
    private async Task<double> SidecarDeliveriesAsync(string topic, string status)
    {
        var metrics = await platform.Sidecar.Running.Http.GetStringAsync($"http://127.0.0.1:{platform.Sidecar.Ports.Metrics}/metrics", Cancel);
        return Prometheus.Sum(metrics, "dapr_component_pubsub_ingress_count", ("topic", topic), ("process_status", status));
    }

    private string Logs() => platform.Probe.Logs.ToString();
}
