using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Ovasabi.DevSidecar.Components;
using Ovasabi.DevSidecar.Components.PubSub;
using Ovasabi.Testing;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Tests.Components.PubSub;

/// <summary>Creates <c>pubsub.redis</c> components against the shared Redis, looks at Redis directly, and cleans up.</summary>
internal sealed class RedisStreamsHarness(RedisServer redis) : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly ConcurrentStack<IAsyncDisposable> _cleanup = new();
    private IConnectionMultiplexer? _inspector;

    public static CancellationToken Token => TestContext.Current.CancellationToken;

    public static RedisStreamsPubSub Create(
        RedisServer redis, string appId, IDictionary<string, string>? metadata = null, TimeProvider? time = null, string? @namespace = null)
    {
        var values = new Dictionary<string, string> { ["redisHost"] = redis.Endpoint };
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            values[key] = value;
        }
        var definition = new ComponentDefinition(
            "pubsub", "pubsub.redis", "v1", new ComponentMetadata(values, "pubsub", "pubsub.yaml"), "pubsub.yaml", []);
        var context = new ComponentContext(appId, @namespace, Directory.GetCurrentDirectory(), TestLogging.Factory, time ?? TimeProvider.System);
        return new RedisStreamsPubSub(definition, context);
    }

    public async Task<RedisStreamsPubSub> StartAsync(string appId, IDictionary<string, string>? metadata = null, TimeProvider? time = null)
    {
        var component = Create(redis, appId, metadata, time);
        _cleanup.Push(component);
        await component.InitAsync(Token);
        return component;
    }

    public async Task<IAsyncDisposable> SubscribeAsync(IPubSub component, string topic, PubSubHandler handler)
    {
        var subscription = await component.SubscribeAsync(topic, handler, Token);
        _cleanup.Push(subscription);
        return subscription;
    }

    public async Task<IDatabase> RedisAsync()
    {
        _inspector ??= await redis.ConnectAsync();
        return _inspector.GetDatabase();
    }

    public async Task<long> PendingCountAsync(string topic, string group) =>
        (await (await RedisAsync()).StreamPendingAsync(topic, group)).PendingMessageCount;

    public static PubSubMessage Message(string topic, string text, IReadOnlyDictionary<string, string>? metadata = null) =>
        new(topic, System.Text.Encoding.UTF8.GetBytes(text), metadata ?? new Dictionary<string, string>());

    public static string Text(PubSubMessage message) => System.Text.Encoding.UTF8.GetString(message.Data);

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <see cref="Patience"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
            await Task.Delay(50, Token);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    public async ValueTask DisposeAsync()
    {
        while (_cleanup.TryPop(out var item))
        {
            await item.DisposeAsync();
        }
        if (_inspector is not null)
        {
            await _inspector.DisposeAsync();
        }
    }
}

/// <summary>Component logs go to the running test's output.</summary>
internal static class TestLogging
{
    public static readonly ILoggerFactory Factory = LoggerFactory.Create(b => b.AddProvider(new Provider()).SetMinimumLevel(LogLevel.Debug));

    private sealed class Provider : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}";
            if (exception is not null)
            {
                line += $" ({exception.GetType().Name}: {exception.Message})";
            }
            try
            {
                TestContext.Current.TestOutputHelper?.WriteLine(line);
            }
            catch (InvalidOperationException)
            {
                // Background work can log after its test has finished; there is no output to write to then.
            }
        }
    }
}
