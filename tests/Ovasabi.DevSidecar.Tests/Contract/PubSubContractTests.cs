using System.Text.Json;
using Dapr;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Dapr.Client;
using Grpc.Core;
using Ovasabi.DevSidecar.Tests.Infrastructure;
using Ovasabi.Testing.Sidecars;
using Ovasabi.Testing;
using Status = Dapr.AppCallback.Autogen.Grpc.v1.TopicEventResponse.Types.TopicEventResponseStatus;

namespace Ovasabi.DevSidecar.Tests.Contract;

/// <summary>Publishing through the SDK and delivery to gRPC apps through AppCallback, as daprd does it.</summary>
public sealed class PubSubContractTests(PubSubHarness harness) : IClassFixture<PubSubHarness>
{
    public sealed record Transfer(string Id, long AmountMinor);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private DaprClient Publisher => harness.PublisherClient;

    [Fact]
    public async Task A_delivered_event_carries_the_CloudEvent_fields_daprd_sets()
    {
        var topic = PubSubHarness.Topic("fields");
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("fields"), a => a.Subscribe(PubSubHarness.PubSub, topic));

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("t-1", 500), Cancel);

        var delivered = (await app.WaitForAsync(r => r.Kind == "event"))[0].Event;
        Assert.True(Guid.TryParse(delivered.Id, out _), $"id '{delivered.Id}' is not a UUID");
        Assert.Equal(harness.Publisher.AppId, delivered.Source);
        Assert.Equal("com.dapr.event.sent", delivered.Type);
        Assert.Equal("1.0", delivered.SpecVersion);
        Assert.Equal("application/json", delivered.DataContentType);
        Assert.Equal(topic, delivered.Topic);
        Assert.Equal(PubSubHarness.PubSub, delivered.PubsubName);
        Assert.Equal(new Transfer("t-1", 500), JsonSerializer.Deserialize<Transfer>(delivered.Data.Span, JsonSerializerOptions.Web));
        var extensions = delivered.Extensions.Fields;
        Assert.Equal(topic, extensions["topic"].StringValue);
        Assert.Equal(PubSubHarness.PubSub, extensions["pubsubname"].StringValue);
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", extensions["traceparent"].StringValue);
        Assert.Equal(extensions["traceparent"].StringValue, extensions["traceid"].StringValue);
        Assert.True(DateTimeOffset.TryParse(extensions["time"].StringValue, out _));
    }

    [Fact]
    public async Task RETRY_is_redelivered_per_the_inbound_resiliency_policy_until_the_app_succeeds()
    {
        var topic = PubSubHarness.Topic("retry");
        using var resources = WithInboundRetry(maxRetries: 5);
        var attempts = 0;
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("retry"), a =>
        {
            a.Subscribe(PubSubHarness.PubSub, topic);
            a.OnEvent = _ => Interlocked.Increment(ref attempts) < 3 ? Status.Retry : Status.Success;
        }, resources);

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("t-2", 1), Cancel);

        var deliveries = await app.WaitForAsync(r => r.Kind == "event", count: 3);
        Assert.Single(deliveries.Select(d => d.Event.Id).Distinct());
        Assert.Equal(3, (await app.SettleAsync(r => r.Kind == "event", TimeSpan.FromSeconds(1))).Count);
    }

    [Fact]
    public async Task RETRY_without_a_resiliency_policy_is_not_redelivered()
    {
        var topic = PubSubHarness.Topic("noretry");
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("noretry"), a =>
        {
            a.Subscribe(PubSubHarness.PubSub, topic);
            a.OnEvent = _ => Status.Retry;
        });

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("t-3", 1), Cancel);

        await app.WaitForAsync(r => r.Kind == "event");
        Assert.Single(await app.SettleAsync(r => r.Kind == "event", TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task DROP_sends_the_message_to_the_dead_letter_topic()
    {
        var topic = PubSubHarness.Topic("drop");
        var deadLetters = topic + "-dlq";
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("drop"), a =>
        {
            a.Subscribe(PubSubHarness.PubSub, topic, deadLetterTopic: deadLetters, path: "/orders");
            a.Subscribe(PubSubHarness.PubSub, deadLetters, path: "/dead");
            a.OnEvent = e => e.Topic == topic ? Status.Drop : Status.Success;
        });

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("t-4", 1), Cancel);

        var dropped = (await app.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == topic))[0].Event;
        var dead = (await app.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == deadLetters))[0].Event;
        Assert.Equal(dropped.Id, dead.Id);
        Assert.Equal("/dead", dead.Path);
        Assert.Equal("/orders", dropped.Path);
    }

    [Fact]
    public async Task Exhausted_retries_send_the_message_to_the_dead_letter_topic()
    {
        var topic = PubSubHarness.Topic("exhaust");
        var deadLetters = topic + "-dlq";
        using var resources = WithInboundRetry(maxRetries: 2);
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("exhaust"), a =>
        {
            a.Subscribe(PubSubHarness.PubSub, topic, deadLetterTopic: deadLetters);
            a.Subscribe(PubSubHarness.PubSub, deadLetters);
            a.OnEvent = e => e.Topic == topic ? Status.Retry : Status.Success;
        }, resources);

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("t-5", 1), Cancel);

        await app.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == deadLetters);
        Assert.Equal(3, app.All.Count(r => r.Kind == "event" && r.Event.Topic == topic));
    }

    [Fact]
    public async Task Two_app_ids_each_receive_every_message()
    {
        var topic = PubSubHarness.Topic("fanout");
        var (first, _) = await harness.StartSubscriberAsync(UniqueName.Create("fan-a"), a => a.Subscribe(PubSubHarness.PubSub, topic));
        var (second, _) = await harness.StartSubscriberAsync(UniqueName.Create("fan-b"), a => a.Subscribe(PubSubHarness.PubSub, topic));

        for (var i = 0; i < 20; i++)
        {
            await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer($"f-{i}", i), Cancel);
        }

        foreach (var app in new[] { first, second })
        {
            var events = await app.WaitForAsync(r => r.Kind == "event", count: 20);
            Assert.Equal(20, events.Select(e => e.Event.Id).Distinct().Count());
        }
    }

    [Fact]
    public async Task Two_replicas_of_one_app_id_share_the_messages_each_message_once()
    {
        var topic = PubSubHarness.Topic("replicas");
        var appId = UniqueName.Create("replica");
        var (first, _) = await harness.StartSubscriberAsync(appId, a => a.Subscribe(PubSubHarness.PubSub, topic));
        var (second, _) = await harness.StartSubscriberAsync(appId, a => a.Subscribe(PubSubHarness.PubSub, topic));
        const int count = 60;

        await Task.WhenAll(Enumerable.Range(0, count).Select(i => Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer($"r-{i}", i), Cancel)));

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (first.All.Count + second.All.Count < count && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, Cancel);
        }
        await Task.Delay(500, Cancel);
        var ids = first.All.Concat(second.All).Where(r => r.Kind == "event").Select(r => r.Event.Id).ToList();
        Assert.Equal(count, ids.Count);
        Assert.Equal(count, ids.Distinct().Count());
        Assert.NotEmpty(first.All);
        Assert.NotEmpty(second.All);
    }

    [Fact]
    public async Task A_message_published_while_the_subscriber_is_down_is_delivered_after_it_restarts()
    {
        var topic = PubSubHarness.Topic("offline");
        var appId = UniqueName.Create("offline");
        var (app, sidecar) = await harness.StartSubscriberAsync(appId, a => a.Subscribe(PubSubHarness.PubSub, topic));
        await sidecar.StopAsync();
        await app.StopAsync();

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("while-down", 1), Cancel);

        var (restarted, _) = await harness.StartSubscriberAsync(appId, a => a.Subscribe(PubSubHarness.PubSub, topic));
        var delivered = (await restarted.WaitForAsync(r => r.Kind == "event"))[0].Event;
        Assert.Equal("while-down", JsonSerializer.Deserialize<Transfer>(delivered.Data.Span, JsonSerializerOptions.Web)!.Id);
    }

    [Fact]
    public async Task An_app_that_answers_Unimplemented_has_the_message_dropped_without_dead_lettering()
    {
        var topic = PubSubHarness.Topic("unimpl");
        var deadLetters = topic + "-dlq";
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("unimpl"), a =>
        {
            a.Subscribe(PubSubHarness.PubSub, topic, deadLetterTopic: deadLetters);
            a.Subscribe(PubSubHarness.PubSub, deadLetters);
            a.OnEvent = e => e.Topic == topic ? throw new RpcException(new Grpc.Core.Status(StatusCode.Unimplemented, "no handler")) : Status.Success;
        });

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("u", 1), Cancel);

        await app.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == topic);
        Assert.Empty(await app.SettleAsync(r => r.Kind == "event" && r.Event.Topic == deadLetters, TimeSpan.FromSeconds(2)));
    }

    [Fact]
    public async Task Bulk_publish_delivers_every_entry_as_its_own_CloudEvent()
    {
        var topic = PubSubHarness.Topic("bulk");
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("bulk"), a => a.Subscribe(PubSubHarness.PubSub, topic));

        var response = await Publisher.BulkPublishEventAsync(PubSubHarness.PubSub, topic,
            Enumerable.Range(0, 5).Select(i => new Transfer($"b-{i}", i)).ToList(), cancellationToken: Cancel);

        Assert.Empty(response.FailedEntries);
        var events = await app.WaitForAsync(r => r.Kind == "event", count: 5);
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"b-{i}").Order(),
            events.Select(e => JsonSerializer.Deserialize<Transfer>(e.Event.Data.Span, JsonSerializerOptions.Web)!.Id).Order());
    }

    [Fact]
    public async Task A_raw_payload_is_published_unwrapped_and_delivered_to_a_raw_subscription_as_data()
    {
        var topic = PubSubHarness.Topic("raw");
        var (app, _) = await harness.StartSubscriberAsync(UniqueName.Create("raw"), a =>
        {
            a.Subscribe(PubSubHarness.PubSub, topic);
            a.Subscriptions[0].Metadata["rawPayload"] = "true";
        });
        var payload = new byte[] { 0, 1, 2, 250, 255 };

        await Publisher.PublishByteEventAsync(PubSubHarness.PubSub, topic, payload, "application/octet-stream",
            new Dictionary<string, string> { ["rawPayload"] = "true" }, Cancel);

        var delivered = (await app.WaitForAsync(r => r.Kind == "event"))[0].Event;
        Assert.Equal(payload, delivered.Data.ToByteArray());
        Assert.Equal("application/octet-stream", delivered.DataContentType);
        await using var redis = await harness.Redis.ConnectAsync();
        var stored = await redis.GetDatabase().StreamRangeAsync(topic);
        Assert.Equal(payload, (byte[])stored.Single()["data"]!);
    }

    [Fact]
    public async Task A_message_whose_ttl_expired_before_delivery_is_dropped()
    {
        var topic = PubSubHarness.Topic("ttl");
        var appId = UniqueName.Create("ttl");
        var (app, sidecar) = await harness.StartSubscriberAsync(appId, a => a.Subscribe(PubSubHarness.PubSub, topic));
        await sidecar.StopAsync();
        await app.StopAsync();

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("stale", 1),
            new Dictionary<string, string> { ["ttlInSeconds"] = "1" }, Cancel);
        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("fresh", 1), Cancel);
        await Task.Delay(TimeSpan.FromSeconds(2), Cancel);

        var (restarted, _) = await harness.StartSubscriberAsync(appId, a => a.Subscribe(PubSubHarness.PubSub, topic));
        var delivered = await restarted.WaitForAsync(r => r.Kind == "event");
        await restarted.SettleAsync(r => true, TimeSpan.FromSeconds(1));
        Assert.Equal(["fresh"], restarted.All.Select(r => JsonSerializer.Deserialize<Transfer>(r.Event.Data.Span, JsonSerializerOptions.Web)!.Id));
        Assert.Single(delivered);
    }

    [Fact]
    public async Task Publishing_to_an_unknown_pubsub_is_refused_with_InvalidArgument()
    {
        var error = await Assert.ThrowsAsync<DaprException>(() => Publisher.PublishEventAsync("nosuch", "t", new Transfer("x", 1), Cancel));

        var rpc = Assert.IsType<RpcException>(error.InnerException);
        Assert.Equal(StatusCode.InvalidArgument, rpc.StatusCode);
        Assert.Equal("pubsub nosuch not found", rpc.Status.Detail);
    }

    [Fact]
    public async Task Publishing_an_invalid_ttl_is_refused_with_InvalidArgument_and_nothing_is_sent()
    {
        var topic = PubSubHarness.Topic("badttl");

        var error = await Assert.ThrowsAsync<DaprException>(() => Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("x", 1),
            new Dictionary<string, string> { ["ttlInSeconds"] = "soon" }, Cancel));

        Assert.Equal(StatusCode.InvalidArgument, Assert.IsType<RpcException>(error.InnerException).StatusCode);
        await using var redis = await harness.Redis.ConnectAsync();
        Assert.Equal(0, await redis.GetDatabase().StreamLengthAsync(topic));
    }

    [Fact]
    public async Task A_topic_outside_the_publishing_scopes_is_refused_with_PermissionDenied()
    {
        using var resources = new ResourceFolder();
        var appId = UniqueName.Create("scoped");
        resources.RedisPubSub(PubSubHarness.PubSub, harness.Redis, new Dictionary<string, string> { ["publishingScopes"] = $"{appId}=allowed" });
        var sidecar = harness.Track(await SidecarProcess.StartAsync(new SidecarLaunch(appId, resources.Directory), Cancel));
        using var client = sidecar.CreateClient();

        await client.PublishEventAsync(PubSubHarness.PubSub, "allowed", new Transfer("ok", 1), Cancel);
        var error = await Assert.ThrowsAsync<DaprException>(() => client.PublishEventAsync(PubSubHarness.PubSub, "secret", new Transfer("no", 1), Cancel));

        Assert.Equal(StatusCode.PermissionDenied, Assert.IsType<RpcException>(error.InnerException).StatusCode);
    }

    [Fact]
    public async Task Declarative_subscriptions_route_by_rule_and_reach_the_app()
    {
        var topic = PubSubHarness.Topic("declared");
        using var resources = new ResourceFolder();
        var appId = UniqueName.Create("declared");
        resources.RedisPubSub(PubSubHarness.PubSub, harness.Redis).Add("subscription.yaml", $"""
            apiVersion: dapr.io/v2alpha1
            kind: Subscription
            metadata:
              name: transfers
            spec:
              pubsubname: {PubSubHarness.PubSub}
              topic: {topic}
              routes:
                rules:
                - match: event.data.amountMinor > 100
                  path: /large
                default: /small
            scopes:
            - {appId}
            """);
        var (app, _) = await harness.StartSubscriberAsync(appId, _ => { }, resources);

        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("big", 1000), Cancel);
        await Publisher.PublishEventAsync(PubSubHarness.PubSub, topic, new Transfer("tiny", 5), Cancel);

        var events = await app.WaitForAsync(r => r.Kind == "event", count: 2);
        var byId = events.ToDictionary(e => JsonSerializer.Deserialize<Transfer>(e.Event.Data.Span, JsonSerializerOptions.Web)!.Id, e => e.Event.Path);
        Assert.Equal("/large", byId["big"]);
        Assert.Equal("/small", byId["tiny"]);
    }

    /// <summary>The harness's pubsub component plus a Resiliency retrying its inbound deliveries every 100 ms.</summary>
    private ResourceFolder WithInboundRetry(int maxRetries)
    {
        var resources = new ResourceFolder();
        resources.RedisPubSub(PubSubHarness.PubSub, harness.Redis).Add("resiliency.yaml", $"""
            apiVersion: dapr.io/v1alpha1
            kind: Resiliency
            metadata:
              name: retries
            spec:
              policies:
                retries:
                  quick:
                    policy: constant
                    duration: 100ms
                    maxRetries: {maxRetries}
              targets:
                components:
                  {PubSubHarness.PubSub}:
                    inbound:
                      retry: quick
            """);
        return resources;
    }
}
