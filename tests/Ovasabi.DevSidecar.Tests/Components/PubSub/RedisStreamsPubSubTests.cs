using System.Collections.Concurrent;
using System.Text.Json;
using Ovasabi.DevSidecar.Components;
using Ovasabi.Testing;
using StackExchange.Redis;
using static Ovasabi.DevSidecar.Tests.Components.PubSub.RedisStreamsHarness;

namespace Ovasabi.DevSidecar.Tests.Components.PubSub;

public sealed class RedisStreamsPubSubTests(RedisServer redis) : IAsyncLifetime
{
    private readonly RedisStreamsHarness _harness = new(redis);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Publish_writes_an_entry_with_data_bytes_and_metadata_json_to_the_stream_named_after_the_topic()
    {
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"));
        var data = new byte[] { 0, 1, 2, 255, (byte)'{' };

        await pubsub.PublishAsync(new PubSubMessage(topic, data, new Dictionary<string, string> { ["traceparent"] = "00-abc-01", ["key"] = "ä+<" }), Token);
        await pubsub.PublishAsync(Message(topic, "plain"), Token);

        var entries = await (await _harness.RedisAsync()).StreamRangeAsync(topic);
        Assert.Equal(2, entries.Length);
        Assert.Equal(data, (byte[])entries[0]["data"]!);
        var metadata = JsonSerializer.Deserialize<Dictionary<string, string>>((string)entries[0]["metadata"]!);
        Assert.Equal(new Dictionary<string, string> { ["traceparent"] = "00-abc-01", ["key"] = "ä+<" }, metadata);
        Assert.Equal("plain", (string?)entries[1]["data"]);
        Assert.DoesNotContain(entries[1].Values, v => v.Name == "metadata");
    }

    [Fact]
    public async Task Subscriber_gets_the_topic_data_and_decoded_metadata_of_each_entry()
    {
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"));
        var received = new ConcurrentQueue<PubSubMessage>();
        await _harness.SubscribeAsync(pubsub, topic, Collect(received));

        await pubsub.PublishAsync(Message(topic, "one", new Dictionary<string, string> { ["pubsubName"] = "pubsub" }), Token);
        await pubsub.PublishAsync(Message(topic, "two"), Token);

        await WaitUntilAsync(() => received.Count == 2, "both messages arrived");
        var byText = received.ToDictionary(Text);
        Assert.Equal(topic, byText["one"].Topic);
        Assert.Equal("pubsub", byText["one"].Metadata["pubsubName"]);
        Assert.Empty(byText["two"].Metadata);
    }

    [Fact]
    public async Task Entry_written_by_another_client_with_invalid_metadata_is_delivered_with_empty_metadata()
    {
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"));
        var received = new ConcurrentQueue<PubSubMessage>();
        await _harness.SubscribeAsync(pubsub, topic, Collect(received));

        await (await _harness.RedisAsync()).StreamAddAsync(topic, [new("data", "raw"), new("metadata", "not json")]);

        await WaitUntilAsync(() => !received.IsEmpty, "the entry arrived");
        Assert.Equal("raw", Text(received.Single()));
        Assert.Empty(received.Single().Metadata);
    }

    [Fact]
    public async Task MaxLenApprox_trims_the_stream_while_publishing()
    {
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"), new Dictionary<string, string> { ["maxLenApprox"] = "10" });

        for (var i = 0; i < 1000; i++)
        {
            await pubsub.PublishAsync(Message(topic, $"m{i}"), Token);
        }

        // "~" trims whole stream nodes (100 entries each by default), so the length ends near the limit, not at it.
        var length = await (await _harness.RedisAsync()).StreamLengthAsync(topic);
        Assert.InRange(length, 10L, 200L);
    }

    [Fact]
    public async Task StreamTTL_trims_entries_older_than_the_ttl_when_publishing()
    {
        var topic = UniqueName.Create("orders");
        var clock = new ShiftableTime();
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"), new Dictionary<string, string> { ["streamTTL"] = "1h" }, clock);
        for (var i = 0; i < 300; i++)
        {
            await pubsub.PublishAsync(Message(topic, $"m{i}"), Token);
        }
        var redisDb = await _harness.RedisAsync();
        Assert.Equal(300, await redisDb.StreamLengthAsync(topic));

        clock.Shift(TimeSpan.FromHours(2));
        await pubsub.PublishAsync(Message(topic, "late"), Token);

        Assert.True(await redisDb.StreamLengthAsync(topic) < 300, "entries older than the TTL were not trimmed");
    }

    [Fact]
    public void MaxLenApprox_and_streamTTL_together_are_a_configuration_error()
    {
        var error = Assert.Throws<ComponentConfigurationException>(() => RedisStreamsHarness.Create(
            redis, "app", new Dictionary<string, string> { ["maxLenApprox"] = "10", ["streamTTL"] = "1m" }));
        Assert.Contains("streamTTL", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redisHost", "")]
    [InlineData("concurrency", "0")]
    [InlineData("queueDepth", "x")]
    [InlineData("processingTimeout", "soon")]
    [InlineData("maxLenApprox", "-1")]
    public void Invalid_metadata_is_a_configuration_error_naming_the_field(string field, string value)
    {
        var error = Assert.Throws<ComponentConfigurationException>(() => RedisStreamsHarness.Create(
            redis, "app", new Dictionary<string, string> { [field] = value }));
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public async Task Init_fails_when_redis_does_not_answer()
    {
        var closedPort = System.Net.Sockets.TcpListener.Create(0);
        closedPort.Start();
        var port = ((System.Net.IPEndPoint)closedPort.LocalEndpoint).Port;
        closedPort.Stop();
        await using var pubsub = RedisStreamsHarness.Create(
            redis, "app", new Dictionary<string, string> { ["redisHost"] = $"127.0.0.1:{port}", ["dialTimeout"] = "200ms" });

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pubsub.InitAsync(Token));
        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConsumerID_defaults_to_the_app_id_and_expands_placeholders()
    {
        var topic = UniqueName.Create("orders");
        var appId = UniqueName.Create("app");
        var byDefault = await _harness.StartAsync(appId);
        var withPlaceholders = await _harness.StartAsync(appId, new Dictionary<string, string> { ["consumerID"] = "{appID}-{uuid}" });

        await _harness.SubscribeAsync(byDefault, topic, (_, _) => Task.CompletedTask);
        await _harness.SubscribeAsync(withPlaceholders, topic, (_, _) => Task.CompletedTask);

        var groups = (await (await _harness.RedisAsync()).StreamGroupInfoAsync(topic)).Select(g => g.Name).ToList();
        Assert.Contains(appId, groups);
        Assert.Contains(groups, g => g.StartsWith(appId + "-", StringComparison.Ordinal) && Guid.TryParse(g[(appId.Length + 1)..], out _));
    }

    [Fact]
    public async Task Namespace_placeholder_becomes_namespace_dot_app_id_as_in_daprd()
    {
        var topic = UniqueName.Create("orders");
        var appId = UniqueName.Create("app");
        await using var pubsub = RedisStreamsHarness.Create(
            redis, appId, new Dictionary<string, string> { ["consumerID"] = "{namespace}" }, @namespace: "prod");
        await pubsub.InitAsync(Token);

        await (await pubsub.SubscribeAsync(topic, (_, _) => Task.CompletedTask, Token)).DisposeAsync();

        var groups = await (await _harness.RedisAsync()).StreamGroupInfoAsync(topic);
        Assert.Equal($"prod.{appId}", Assert.Single(groups).Name);
    }

    [Fact]
    public async Task Two_apps_with_different_consumer_ids_each_get_every_message()
    {
        var topic = UniqueName.Create("orders");
        var first = await _harness.StartAsync(UniqueName.Create("billing"));
        var second = await _harness.StartAsync(UniqueName.Create("shipping"));
        var gotFirst = new ConcurrentBag<string>();
        var gotSecond = new ConcurrentBag<string>();
        await _harness.SubscribeAsync(first, topic, Collect(gotFirst));
        await _harness.SubscribeAsync(second, topic, Collect(gotSecond));

        for (var i = 0; i < 20; i++)
        {
            await first.PublishAsync(Message(topic, $"m{i}"), Token);
        }

        var expected = Enumerable.Range(0, 20).Select(i => $"m{i}").Order().ToList();
        await WaitUntilAsync(() => gotFirst.Count >= 20 && gotSecond.Count >= 20, "both apps got all messages");
        Assert.Equal(expected, gotFirst.Order());
        Assert.Equal(expected, gotSecond.Order());
    }

    [Fact]
    public async Task Replicas_with_the_same_consumer_id_share_the_messages_each_delivered_once()
    {
        var topic = UniqueName.Create("orders");
        var appId = UniqueName.Create("app");
        var replicaA = await _harness.StartAsync(appId);
        var replicaB = await _harness.StartAsync(appId);
        var received = new ConcurrentBag<string>();
        await _harness.SubscribeAsync(replicaA, topic, Collect(received));
        await _harness.SubscribeAsync(replicaB, topic, Collect(received));

        for (var i = 0; i < 50; i++)
        {
            await replicaA.PublishAsync(Message(topic, $"m{i}"), Token);
        }

        await WaitUntilAsync(() => received.Count >= 50, "all messages arrived");
        await WaitUntilAsync(async () => await _harness.PendingCountAsync(topic, appId) == 0, "every message was acknowledged");
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"m{i}").Order(), received.Order());
    }

    [Fact]
    public async Task Message_published_before_the_group_exists_is_delivered_to_a_group_created_later()
    {
        var topic = UniqueName.Create("orders");
        var publisher = await _harness.StartAsync(UniqueName.Create("publisher"));
        await publisher.PublishAsync(Message(topic, "early"), Token);
        var subscriber = await _harness.StartAsync(UniqueName.Create("late"));
        var received = new ConcurrentBag<string>();

        await _harness.SubscribeAsync(subscriber, topic, Collect(received));

        await WaitUntilAsync(() => received.Contains("early"), "the early message arrived");
    }

    [Fact]
    public async Task Handler_error_still_acknowledges_the_entry()
    {
        var topic = UniqueName.Create("orders");
        var appId = UniqueName.Create("app");
        var pubsub = await _harness.StartAsync(appId);
        var calls = 0;
        await _harness.SubscribeAsync(pubsub, topic, (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("app said no");
        });

        await pubsub.PublishAsync(Message(topic, "doomed"), Token);

        await WaitUntilAsync(() => Volatile.Read(ref calls) > 0, "the handler ran");
        await WaitUntilAsync(async () => await _harness.PendingCountAsync(topic, appId) == 0, "the failed entry was acknowledged");
    }

    [Fact]
    public async Task Handler_overrunning_processingTimeout_is_cancelled_left_pending_and_redelivered_by_the_reclaim_loop()
    {
        var topic = UniqueName.Create("orders");
        var appId = UniqueName.Create("app");
        var pubsub = await _harness.StartAsync(appId, new Dictionary<string, string>
        {
            ["processingTimeout"] = "1s",
            ["redeliverInterval"] = "500ms",
        });
        var deliveries = 0;
        await _harness.SubscribeAsync(pubsub, topic, async (_, cancellationToken) =>
        {
            if (Interlocked.Increment(ref deliveries) == 1)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        });

        await pubsub.PublishAsync(Message(topic, "slow"), Token);

        await WaitUntilAsync(() => Volatile.Read(ref deliveries) >= 2, "the entry was delivered again");
        await WaitUntilAsync(async () => await _harness.PendingCountAsync(topic, appId) == 0, "the redelivered entry was acknowledged");
    }

    [Fact]
    public async Task Messages_published_while_unsubscribed_arrive_when_the_group_subscribes_again()
    {
        var topic = UniqueName.Create("orders");
        var appId = UniqueName.Create("app");
        var pubsub = await _harness.StartAsync(appId);
        var received = new ConcurrentBag<string>();
        var subscription = await pubsub.SubscribeAsync(topic, Collect(received), Token);
        await pubsub.PublishAsync(Message(topic, "before"), Token);
        await WaitUntilAsync(() => received.Contains("before"), "the first message arrived");
        await subscription.DisposeAsync();

        await pubsub.PublishAsync(Message(topic, "while-away-1"), Token);
        await pubsub.PublishAsync(Message(topic, "while-away-2"), Token);
        var restarted = await _harness.StartAsync(appId);
        await _harness.SubscribeAsync(restarted, topic, Collect(received));

        await WaitUntilAsync(() => received.Count >= 3, "the messages published meanwhile arrived");
        await WaitUntilAsync(async () => await _harness.PendingCountAsync(topic, appId) == 0, "every message was acknowledged");
        Assert.Equal(["before", "while-away-1", "while-away-2"], received.Order());
    }

    [Fact]
    public async Task Dispose_waits_for_a_running_handler_and_acknowledges_its_entry()
    {
        var topic = UniqueName.Create("orders");
        var appId = UniqueName.Create("app");
        var pubsub = await _harness.StartAsync(appId);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscription = await pubsub.SubscribeAsync(topic, async (_, _) =>
        {
            started.TrySetResult();
            await release.Task;
        }, Token);
        await pubsub.PublishAsync(Message(topic, "in-flight"), Token);
        await started.Task.WaitAsync(Patience, Token);

        var disposing = subscription.DisposeAsync().AsTask();
        Assert.False(disposing.IsCompleted);
        release.SetResult();
        await disposing.WaitAsync(Patience, Token);

        Assert.Equal(0, await _harness.PendingCountAsync(topic, appId));
    }

    [Fact]
    public async Task Deleted_stream_and_group_are_recreated_and_later_messages_arrive()
    {
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"));
        var received = new ConcurrentBag<string>();
        await _harness.SubscribeAsync(pubsub, topic, Collect(received));
        await pubsub.PublishAsync(Message(topic, "first"), Token);
        await WaitUntilAsync(() => received.Contains("first"), "the first message arrived");

        await (await _harness.RedisAsync()).KeyDeleteAsync(topic);
        await pubsub.PublishAsync(Message(topic, "second"), Token);

        await WaitUntilAsync(() => received.Contains("second"), "a message after the deletion arrived");
    }

    [Fact]
    public async Task Concurrent_handler_calls_reach_but_never_exceed_the_concurrency_setting()
    {
        const int limit = 3;
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"), new Dictionary<string, string> { ["concurrency"] = $"{limit}" });
        var running = 0;
        var mostAtOnce = 0;
        var done = 0;
        // Holds the first handlers until `limit` run together, so reaching the limit does not depend on timing.
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _harness.SubscribeAsync(pubsub, topic, async (_, cancellationToken) =>
        {
            var now = Interlocked.Increment(ref running);
            InterlockedMax(ref mostAtOnce, now);
            if (now >= limit)
            {
                full.TrySetResult();
            }
            await full.Task.WaitAsync(Patience, cancellationToken);
            await Task.Delay(10, cancellationToken);
            Interlocked.Decrement(ref running);
            Interlocked.Increment(ref done);
        });

        for (var i = 0; i < 4 * limit; i++)
        {
            await pubsub.PublishAsync(Message(topic, $"m{i}"), Token);
        }

        await WaitUntilAsync(() => Volatile.Read(ref done) == 4 * limit, "every message was handled");
        Assert.Equal(limit, mostAtOnce);
    }

    private static PubSubHandler Collect(ConcurrentBag<string> into) => (message, _) =>
    {
        into.Add(Text(message));
        return Task.CompletedTask;
    };

    private static PubSubHandler Collect(ConcurrentQueue<PubSubMessage> into) => (message, _) =>
    {
        into.Enqueue(message);
        return Task.CompletedTask;
    };

    private static void InterlockedMax(ref int target, int value)
    {
        var seen = Volatile.Read(ref target);
        while (value > seen)
        {
            var previous = Interlocked.CompareExchange(ref target, value, seen);
            if (previous == seen)
            {
                return;
            }
            seen = previous;
        }
    }

    /// <summary>The system clock moved by a settable offset, for TTL trimming without waiting.</summary>
    private sealed class ShiftableTime : TimeProvider
    {
        private TimeSpan _offset;

        public void Shift(TimeSpan by) => _offset += by;

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + _offset;
    }
}
