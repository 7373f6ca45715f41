using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Components.PubSub;

/// <summary>
/// <c>pubsub.redis</c> v1: a topic is a Redis stream of entries with the fields <c>data</c> and <c>metadata</c>,
/// and the consumer ID is both the consumer group and the consumer name, laid out as daprd's component does,
/// so streams written here can be read by daprd and the other way round.
/// Delivery is at least once and unordered; retries after a handler error are the caller's job, not the broker's.
/// </summary>
public sealed class RedisStreamsPubSub : IPubSub
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(5);

    private readonly RedisStreamsSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _name;

    // One limit across all topics of the component, as daprd's worker pool is shared by its subscriptions.
    private readonly SemaphoreSlim _handlerSlots;
    private readonly ConcurrentDictionary<RedisStreamSubscription, byte> _subscriptions = new();
    private ConnectionMultiplexer? _connection;
    private volatile bool _disposed;

    public RedisStreamsPubSub(ComponentDefinition definition, ComponentContext context)
    {
        _settings = RedisStreamsSettings.Parse(definition.Metadata, context);
        _time = context.Time;
        _name = definition.Name;
        _logger = context.LoggerFactory.CreateLogger<RedisStreamsPubSub>();
        _handlerSlots = new SemaphoreSlim(_settings.Concurrency, _settings.Concurrency);
    }

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_connection is not null)
        {
            return;
        }
        ConnectionMultiplexer? connection = null;
        try
        {
            // Failing fast here reports a wrong host or password at startup; later outages are reconnected.
            connection = await ConnectionMultiplexer.ConnectAsync(
                _settings.Connection.ToOptions(abortOnConnectFail: true, CommandTimeout));
            await connection.GetDatabase().PingAsync().WaitAsync(cancellationToken);
        }
        catch (Exception e)
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
            if (e is OperationCanceledException)
            {
                throw;
            }
            throw new InvalidOperationException($"redis streams: error connecting to redis at {_settings.Connection}: {e.Message}", e);
        }
        _connection = connection;
    }

    public async Task PublishAsync(PubSubMessage message, CancellationToken cancellationToken)
    {
        var database = Database();
        NameValueEntry[] fields = message.Metadata.Count == 0
            ? [new(RedisStreamEntries.DataField, message.Data)]
            : [new(RedisStreamEntries.DataField, message.Data), new(RedisStreamEntries.MetadataField, RedisStreamEntries.EncodeMetadata(message.Metadata))];
        var options = (_settings.MaxLenApprox, _settings.StreamTtl) switch
        {
            ({ } maxLength, _) => new StreamAddOptions { MaxLength = maxLength, Approximate = true },
            // Entry ids start with their creation time in milliseconds, so trimming below an id drops older entries.
            (_, { } ttl) => new StreamAddOptions { MinId = (_time.GetUtcNow() - ttl).ToUnixTimeMilliseconds(), Approximate = true },
            _ => new StreamAddOptions(),
        };
        try
        {
            await database.StreamAddAsync(message.Topic, fields, options).WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"redis streams: error from publish: {e.Message}", e);
        }
    }

    public async Task<IAsyncDisposable> SubscribeAsync(string topic, PubSubHandler handler, CancellationToken cancellationToken)
    {
        var database = Database();
        await RedisStreamEntries.CreateGroupAsync(database, topic, _settings.ConsumerId).WaitAsync(cancellationToken);

        // Blocking XREADGROUP would hold up every command queued behind it on a multiplexed connection,
        // so each subscription reads on a connection of its own; closing it also ends a read in progress.
        var reader = await ConnectionMultiplexer.ConnectAsync(
            _settings.Connection.ToOptions(abortOnConnectFail: false, _settings.BlockTime + CommandTimeout, RedisProtocol.Resp2));
        var subscription = new RedisStreamSubscription(
            topic, handler, _settings, database, reader, _handlerSlots, _time, _logger, _name, Forget);
        _subscriptions[subscription] = 0;
        if (_disposed)
        {
            await subscription.DisposeAsync();
            throw new ObjectDisposedException(nameof(RedisStreamsPubSub));
        }
        subscription.Start();
        _logger.LogInformation("pubsub {Component}: subscribed to stream {Topic} as consumer group {Group}", _name, topic, _settings.ConsumerId);
        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await Task.WhenAll(_subscriptions.Keys.Select(s => s.DisposeAsync().AsTask()));
        if (_connection is { } connection)
        {
            await connection.CloseAsync();
            await connection.DisposeAsync();
        }
    }

    private IDatabase Database()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _connection?.GetDatabase() ?? throw new InvalidOperationException($"pubsub {_name} is not initialised");
    }

    private void Forget(RedisStreamSubscription subscription) => _subscriptions.TryRemove(subscription, out _);
}
