using System.Collections.Concurrent;
using System.Threading.Channels;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Components.PubSub;

/// <summary>
/// One topic read by one consumer group: a loop reading new entries, a loop reclaiming entries left pending
/// too long, and a dispatcher handing queued entries to the handler within the component's concurrency limit.
/// </summary>
internal sealed class RedisStreamSubscription : IAsyncDisposable
{
    // Dispose lets running handlers finish for this long, then cancels them and waits a little more.
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CancelledDrainTimeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(2);

    private readonly string _topic;
    private readonly string _group;
    private readonly PubSubHandler _handler;
    private readonly RedisStreamsSettings _settings;
    private readonly IDatabase _commands;
    private readonly ConnectionMultiplexer _reader;
    private readonly SemaphoreSlim _handlerSlots;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _component;
    private readonly Action<RedisStreamSubscription> _onDisposed;
    private readonly Channel<StreamEntry> _queue;

    // Entries queued or being handled here: a reclaim pass must not hand them out a second time.
    private readonly ConcurrentDictionary<string, byte> _held = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Task, byte> _running = new();
    private readonly CancellationTokenSource _stopReading = new();
    private readonly CancellationTokenSource _stopHandlers = new();
    private readonly Lock _disposeLock = new();
    private Task _loops = Task.CompletedTask;
    private Task? _disposal;

    public RedisStreamSubscription(
        string topic,
        PubSubHandler handler,
        RedisStreamsSettings settings,
        IDatabase commands,
        ConnectionMultiplexer reader,
        SemaphoreSlim handlerSlots,
        TimeProvider time,
        ILogger logger,
        string component,
        Action<RedisStreamSubscription> onDisposed)
    {
        _topic = topic;
        _group = settings.ConsumerId;
        _handler = handler;
        _settings = settings;
        _commands = commands;
        _reader = reader;
        _handlerSlots = handlerSlots;
        _time = time;
        _logger = logger;
        _component = component;
        _onDisposed = onDisposed;
        _queue = Channel.CreateBounded<StreamEntry>(new BoundedChannelOptions(settings.QueueDepth) { SingleReader = true });
    }

    public void Start()
    {
        var stop = _stopReading.Token;
        _loops = Task.WhenAll(
            Task.Run(() => ReadLoopAsync(stop)),
            Task.Run(() => ReclaimLoopAsync(stop)),
            Task.Run(() => DispatchLoopAsync(stop)));
    }

    /// <summary>
    /// Stops reading, gives running handlers time to finish (their entries are acknowledged), then cancels the rest.
    /// Entries read but not acknowledged stay pending in the group for a later reclaim.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        // The caller and the closing component may both dispose; both wait for the same shutdown.
        lock (_disposeLock)
        {
            _disposal ??= StopAsync();
        }
        return new ValueTask(_disposal);
    }

    private async Task StopAsync()
    {
        _stopReading.Cancel();
        // Closing the reading connection ends an XREADGROUP that is still blocked.
        await _reader.CloseAsync(allowCommandsToComplete: false);
        await _loops;
        _stopReading.Dispose();

        var running = Task.WhenAll(_running.Keys);
        var drained = await FinishesWithinAsync(running, DrainTimeout);
        if (!drained)
        {
            _stopHandlers.Cancel();
            drained = await FinishesWithinAsync(running, CancelledDrainTimeout);
        }
        if (drained)
        {
            _stopHandlers.Dispose();
        }
        else
        {
            _logger.LogWarning(
                "pubsub {Component}: handlers for {Topic} still run after the subscription closed; their entries stay pending",
                _component, _topic);
        }
        await _reader.DisposeAsync();
        _onDisposed(this);
    }

    private async Task ReadLoopAsync(CancellationToken stop)
    {
        var database = _reader.GetDatabase();
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var entries = await RedisStreamEntries.ReadNewAsync(database, _topic, _group, _settings.QueueDepth, _settings.BlockTime);
                if (failures > 0)
                {
                    _logger.LogInformation("pubsub {Component}: reading {Topic} again", _component, _topic);
                    failures = 0;
                }
                foreach (var entry in entries)
                {
                    await EnqueueAsync(entry, stop);
                }
            }
            catch (Exception) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (RedisStreamEntries.IsGroupLost(e))
            {
                // The stream or the group was deleted, or Redis restarted without its data.
                _logger.LogWarning("pubsub {Component}: consumer group {Group} of {Topic} is gone; creating it again", _component, _group, _topic);
                failures = await RecreateGroupAsync(failures, stop);
            }
            catch (Exception e)
            {
                failures++;
                LogReadFailure(e, failures);
                await PauseAsync(failures, stop);
            }
        }
    }

    private async Task<int> RecreateGroupAsync(int failures, CancellationToken stop)
    {
        try
        {
            await RedisStreamEntries.CreateGroupAsync(_commands, _topic, _group);
            return failures;
        }
        catch (Exception e)
        {
            if (!stop.IsCancellationRequested)
            {
                LogReadFailure(e, failures + 1);
                await PauseAsync(failures + 1, stop);
            }
            return failures + 1;
        }
    }

    private void LogReadFailure(Exception e, int failures)
    {
        // An outage fails every attempt; one warning is enough until reading works again.
        _logger.Log(
            failures == 1 ? LogLevel.Warning : LogLevel.Debug,
            e,
            "pubsub {Component}: reading {Topic} failed (attempt {Attempt}); retrying",
            _component, _topic, failures);
    }

    private async Task PauseAsync(int failures, CancellationToken stop)
    {
        var delay = FirstRetryDelay * Math.Pow(2, Math.Min(failures - 1, 10));
        try
        {
            await Task.Delay(delay < MaxRetryDelay ? delay : MaxRetryDelay, _time, stop);
        }
        catch (OperationCanceledException)
        {
            // Stopping; the loop condition ends the loop.
        }
    }

    private async Task ReclaimLoopAsync(CancellationToken stop)
    {
        if (!_settings.Reclaims)
        {
            return;
        }
        using var timer = new PeriodicTimer(_settings.RedeliverInterval, _time);
        try
        {
            // The first pass at start picks up what an earlier run of this consumer left pending.
            do
            {
                await ReclaimAsync(stop);
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>XAUTOCLAIM every entry pending for at least processingTimeout, acknowledging those no longer in the stream.</summary>
    private async Task ReclaimAsync(CancellationToken stop)
    {
        var minIdle = (long)_settings.ProcessingTimeout.TotalMilliseconds;
        RedisValue cursor = "0-0";
        try
        {
            do
            {
                var result = await _commands.StreamAutoClaimAsync(_topic, _group, _group, minIdle, cursor, _settings.QueueDepth);
                if (result.DeletedIds.Length > 0)
                {
                    // Trimmed or deleted entries cannot be delivered; Redis 7 drops them from the pending list, older servers need the ack.
                    await _commands.StreamAcknowledgeAsync(_topic, _group, result.DeletedIds);
                }
                foreach (var entry in result.ClaimedEntries)
                {
                    if (!entry.IsNull)
                    {
                        await EnqueueAsync(entry, stop);
                    }
                }
                cursor = result.NextStartId;
            }
            while (cursor != "0-0");
        }
        catch (Exception e) when (!stop.IsCancellationRequested)
        {
            // A missing group is recreated by the read loop; anything else is tried again at the next interval.
            _logger.Log(
                RedisStreamEntries.IsGroupLost(e) ? LogLevel.Debug : LogLevel.Warning,
                e,
                "pubsub {Component}: reclaiming pending entries of {Topic} failed",
                _component, _topic);
        }
    }

    private async ValueTask EnqueueAsync(StreamEntry entry, CancellationToken stop)
    {
        var id = entry.Id.ToString();
        if (!_held.TryAdd(id, 0))
        {
            return;
        }
        try
        {
            await _queue.Writer.WriteAsync(entry, stop);
        }
        catch
        {
            _held.TryRemove(id, out _);
            throw;
        }
    }

    private async Task DispatchLoopAsync(CancellationToken stop)
    {
        try
        {
            await foreach (var entry in _queue.Reader.ReadAllAsync(stop))
            {
                await _handlerSlots.WaitAsync(stop);
                // Not tied to stop: a started handler runs to its end, and Dispose decides when to cancel it.
                var run = Task.Run(() => HandleAsync(entry), CancellationToken.None);
                _running[run] = 0;
                _ = run.ContinueWith(
                    static (done, running) => ((ConcurrentDictionary<Task, byte>)running!).TryRemove(done, out _),
                    _running,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopping: entries still queued stay pending in Redis.
        }
    }

    private async Task HandleAsync(StreamEntry entry)
    {
        try
        {
            var message = RedisStreamEntries.Decode(_topic, entry, _logger);
            using var timeout = _settings.Reclaims ? new CancellationTokenSource(_settings.ProcessingTimeout, _time) : null;
            using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_stopHandlers.Token, timeout?.Token ?? CancellationToken.None);
            try
            {
                await _handler(message, cancel.Token);
            }
            catch (Exception e) when (cancel.IsCancellationRequested)
            {
                // Past processingTimeout or stopping: left pending, so a reclaim pass delivers it again.
                _logger.LogWarning(
                    e,
                    "pubsub {Component}: handling entry {Id} of {Topic} was cancelled; it stays pending",
                    _component, entry.Id, _topic);
                return;
            }
            catch (Exception e)
            {
                // Acknowledged all the same, as daprd's component does: redelivery after an error is up to
                // the delivery layer's resiliency policy, not the broker.
                _logger.LogError(e, "pubsub {Component}: handling entry {Id} of {Topic} failed", _component, entry.Id, _topic);
            }
            await AcknowledgeAsync(entry.Id);
        }
        finally
        {
            _held.TryRemove(entry.Id.ToString(), out _);
            _handlerSlots.Release();
        }
    }

    private async Task AcknowledgeAsync(RedisValue id)
    {
        try
        {
            await _commands.StreamAcknowledgeAsync(_topic, _group, id);
        }
        catch (Exception e)
        {
            _logger.LogWarning(
                e,
                "pubsub {Component}: entry {Id} of {Topic} could not be acknowledged; it stays pending and may be delivered again",
                _component, id, _topic);
        }
    }

    private async Task<bool> FinishesWithinAsync(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout, _time);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
