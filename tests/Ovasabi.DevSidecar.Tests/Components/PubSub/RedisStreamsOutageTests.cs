using System.Collections.Concurrent;
using Ovasabi.Testing;
using static Ovasabi.DevSidecar.Tests.Components.PubSub.RedisStreamsHarness;

namespace Ovasabi.DevSidecar.Tests.Components.PubSub;

/// <summary>Restarts the shared Redis, so nothing else may run meanwhile.</summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class RedisRestartCollection;

[Collection(typeof(RedisRestartCollection))]
public sealed class RedisStreamsOutageTests(RedisServer redis) : IAsyncLifetime
{
    private readonly RedisStreamsHarness _harness = new(redis);

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    [Fact]
    public async Task Subscription_survives_a_redis_restart_and_receives_messages_published_afterwards()
    {
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"));
        var received = new ConcurrentBag<string>();
        await _harness.SubscribeAsync(pubsub, topic, (message, _) =>
        {
            received.Add(Text(message));
            return Task.CompletedTask;
        });
        await pubsub.PublishAsync(Message(topic, "before"), Token);
        await WaitUntilAsync(() => received.Contains("before"), "the first message arrived");

        await redis.StopAsync(Token);
        await redis.StartAsync(Token);

        // Publishing fails until the component's connection is back; the test retries as an app would.
        await WaitUntilAsync(async () =>
        {
            try
            {
                await pubsub.PublishAsync(Message(topic, "after"), Token);
                return true;
            }
            catch (InvalidOperationException)
            {
                return false;
            }
        }, "a publish after the restart succeeded");
        await WaitUntilAsync(() => received.Contains("after"), "the message published after the restart arrived");
    }

    [Fact]
    public async Task Subscription_and_component_close_while_redis_is_down()
    {
        var topic = UniqueName.Create("orders");
        var pubsub = await _harness.StartAsync(UniqueName.Create("app"));
        var subscription = await pubsub.SubscribeAsync(topic, (_, _) => Task.CompletedTask, Token);

        await redis.StopAsync(Token);
        try
        {
            await subscription.DisposeAsync().AsTask().WaitAsync(Patience, Token);
            await pubsub.DisposeAsync().AsTask().WaitAsync(Patience, Token);
        }
        finally
        {
            // Even when the test is cancelled: the other test classes need the server back.
            await redis.StartAsync(CancellationToken.None);
        }
    }
}
