using System.Collections.Concurrent;
using Dapr;
using Dapr.Client;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Ovasabi.ServiceDefaults.Hosting;
using Ovasabi.ServiceDefaults.Telemetry;

namespace Ovasabi.ServiceDefaults.Caching;

/// <summary>
/// Cache-aside over the Dapr state store. Keys read <c>&lt;service&gt;:&lt;entity&gt;:&lt;id&gt;[:&lt;attr&gt;]</c>, every
/// entry has an explicit TTL (<c>ttlInSeconds</c>), writers invalidate after they commit. The cache only ever makes a
/// request faster: when the state store or the sidecar fails, the value comes from the database and the failure is logged.
/// </summary>
public sealed class StateCache(DaprClient dapr, ServiceOptions options, ServiceMetrics metrics, StateStoreBreaker breaker, ILogger<StateCache> logger)
{
    // Keys whose invalidation failed (sidecar or store out of reach): their entries may still hold what a committed
    // write replaced, and would be served for the rest of their TTL. Until a retried delete succeeds they are neither
    // read nor filled. The value tells a key that failed again during a retry from the one the retry removed.
    private readonly ConcurrentDictionary<string, long> _staleKeys = new(StringComparer.Ordinal);
    private long _failures;

    // A reader that loaded a value before a write committed must not store it after the write's invalidation, or the
    // entry would hold the replaced value until its TTL. Keys fall into stripes; an invalidation bumps its stripe's
    // generation, and a fill stores only if the generation is the one it saw before loading, checked and stored under
    // the stripe's lock, so the store lands either before the invalidation (which then deletes it) or not at all.
    // This closes the race within one replica; across replicas a fill can still land after another's invalidation.
    private const int Stripes = 64;
    private readonly SemaphoreSlim[] _fillLocks = Enumerable.Range(0, Stripes).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
    private readonly long[] _generations = new long[Stripes];

    public string Key(string entity, string id, string? attribute = null) =>
        attribute is null ? $"{options.Name}:{entity}:{id}" : $"{options.Name}:{entity}:{id}:{attribute}";

    /// <summary>The cached message, else <paramref name="load"/>'s (stored with <paramref name="ttl"/>); null when neither has one.</summary>
    public async Task<T?> GetOrLoadAsync<T>(string entity, string key, TimeSpan ttl, Func<CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
        where T : class, IMessage<T>, new()
    {
        if (!await RetryStaleAsync(entity, cancellationToken) && _staleKeys.ContainsKey(key))
        {
            metrics.CacheLookup(entity, "bypass");
            return await load(cancellationToken);
        }
        var cached = await TryAsync(entity, "get", async ct =>
        {
            var bytes = await dapr.GetByteStateAsync(options.StateStoreName, key, cancellationToken: ct);
            return bytes.Length > 0 ? JsonParser.Default.Parse<T>(System.Text.Encoding.UTF8.GetString(bytes.Span)) : null;
        }, cancellationToken);
        if (cached is not null)
        {
            metrics.CacheLookup(entity, "hit");
            return cached;
        }
        metrics.CacheLookup(entity, "miss");
        var stripe = Stripe(key);
        var generation = Volatile.Read(ref _generations[stripe]);
        var loaded = await load(cancellationToken);
        if (loaded is not null)
        {
            await _fillLocks[stripe].WaitAsync(cancellationToken);
            try
            {
                if (Volatile.Read(ref _generations[stripe]) == generation)
                {
                    await TryAsync<object?>(entity, "set", async ct =>
                    {
                        await dapr.SaveByteStateAsync(options.StateStoreName, key, System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(loaded)),
                            metadata: new Dictionary<string, string> { ["ttlInSeconds"] = ((int)ttl.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                            cancellationToken: ct);
                        return null;
                    }, cancellationToken);
                }
            }
            finally
            {
                _fillLocks[stripe].Release();
            }
        }
        return loaded;
    }

    private static int Stripe(string key) => (int)((uint)StringComparer.Ordinal.GetHashCode(key) % Stripes);

    /// <summary>Makes fills of <paramref name="keys"/> that loaded before now skip their store (see <see cref="_generations"/>).</summary>
    private async Task BumpGenerationsAsync(IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        foreach (var stripe in keys.Select(Stripe).Distinct())
        {
            await _fillLocks[stripe].WaitAsync(cancellationToken);
            Interlocked.Increment(ref _generations[stripe]);
            _fillLocks[stripe].Release();
        }
    }

    /// <summary>
    /// Versioned cache-aside, for values whose row carries a version that grows with every change (e.g. a balance):
    /// the cached value, else <paramref name="load"/>'s, stored unless a newer version got there first. With
    /// <see cref="PutIfNewerAsync{T}"/> after each commit, an entry never goes back to an older version, so whoever
    /// wrote reads at least what they wrote, however reads and writes interleave.
    /// </summary>
    /// <param name="minimumVersion">An entry older than this (e.g. the last version this replica committed) is not served.</param>
    public async Task<T> GetOrLoadVersionedAsync<T>(string entity, string key, TimeSpan ttl, Func<CancellationToken, Task<(T Value, long Version)>> load,
        long minimumVersion, CancellationToken cancellationToken)
        where T : class, IMessage<T>, new()
    {
        if (!await RetryStaleAsync(entity, cancellationToken) && _staleKeys.ContainsKey(key))
        {
            metrics.CacheLookup(entity, "bypass");
            return (await load(cancellationToken)).Value;
        }
        var cached = await TryAsync(entity, "get", async ct => Versioned<T>.Parse(await dapr.GetByteStateAsync(options.StateStoreName, key, cancellationToken: ct)), cancellationToken);
        if (cached is not null && cached.Version >= minimumVersion)
        {
            metrics.CacheLookup(entity, "hit");
            return cached.Value;
        }
        metrics.CacheLookup(entity, cached is null ? "miss" : "stale");
        var (value, version) = await load(cancellationToken);
        await PutIfNewerAsync(entity, key, value, version, ttl, cancellationToken);
        return value;
    }

    /// <summary>
    /// Stores <paramref name="value"/> at <paramref name="version"/> unless the entry already holds that version or a
    /// newer one (compare-and-set on the state store's ETag, first-write concurrency). When the store cannot be reached
    /// the entry is bypassed until a later retry removes it, as after a failed invalidation.
    /// </summary>
    public async Task PutIfNewerAsync<T>(string entity, string key, T value, long version, TimeSpan ttl, CancellationToken cancellationToken)
        where T : class, IMessage<T>, new()
    {
        var stored = await TryAsync<object>(entity, "set", async ct =>
        {
            var bytes = Versioned<T>.Format(value, version);
            var metadata = new Dictionary<string, string> { ["ttlInSeconds"] = ((int)ttl.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            var firstWrite = new StateOptions { Concurrency = ConcurrencyMode.FirstWrite };
            // Each round loses only to a concurrent writer, which leaves a newer version or lets the next round win.
            for (var round = 0; round < 8; round++)
            {
                var (current, etag) = await dapr.GetByteStateAndETagAsync(options.StateStoreName, key, cancellationToken: ct);
                if (Versioned<T>.Parse(current) is { } existing && existing.Version >= version)
                {
                    return true;
                }
                try
                {
                    // Without an etag, first-write only creates: a value another writer just created is not overwritten.
                    if (string.IsNullOrEmpty(etag))
                    {
                        await dapr.SaveByteStateAsync(options.StateStoreName, key, bytes, firstWrite, metadata, ct);
                        return true;
                    }
                    if (await dapr.TrySaveByteStateAsync(options.StateStoreName, key, bytes, etag, firstWrite, metadata, ct))
                    {
                        return true;
                    }
                }
                catch (DaprException e) when (e.InnerException is global::Grpc.Core.RpcException { StatusCode: global::Grpc.Core.StatusCode.Aborted })
                {
                    // Lost the race to create it: read again.
                }
            }
            throw new InvalidOperationException($"{key}: too much contention to store version {version}");
        }, cancellationToken);
        if (stored is null)
        {
            _staleKeys[key] = Interlocked.Increment(ref _failures);
        }
    }

    /// <summary>A cached value with the version of the row it was read from, stored as <c>{"version":n,"value":{…}}</c>.</summary>
    private sealed record Versioned<T>(T Value, long Version) where T : class, IMessage<T>, new()
    {
        public static ReadOnlyMemory<byte> Format(T value, long version) =>
            System.Text.Encoding.UTF8.GetBytes($"{{\"version\":{version},\"value\":{JsonFormatter.Default.Format(value)}}}");

        public static Versioned<T>? Parse(ReadOnlyMemory<byte> bytes)
        {
            if (bytes.Length == 0)
            {
                return null;
            }
            using var json = System.Text.Json.JsonDocument.Parse(bytes);
            return new Versioned<T>(JsonParser.Default.Parse<T>(json.RootElement.GetProperty("value").GetRawText()), json.RootElement.GetProperty("version").GetInt64());
        }
    }

    /// <summary>Removes entries after a write committed; on a failure they are bypassed until a later retry removes them.</summary>
    public async Task InvalidateAsync(string entity, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var list = keys.ToList();
        await BumpGenerationsAsync(list, cancellationToken);
        await RetryStaleAsync(entity, cancellationToken);
        if (!await DeleteAsync(entity, list, cancellationToken))
        {
            var failure = Interlocked.Increment(ref _failures);
            foreach (var key in list)
            {
                _staleKeys[key] = failure;
            }
        }
    }

    /// <summary>Deletes the entries whose invalidation failed earlier; true when none is left.</summary>
    private async Task<bool> RetryStaleAsync(string entity, CancellationToken cancellationToken)
    {
        if (_staleKeys.IsEmpty)
        {
            return true;
        }
        var stale = _staleKeys.ToArray();
        if (await DeleteAsync(entity, stale.Select(kv => kv.Key), cancellationToken))
        {
            foreach (var entry in stale)
            {
                _staleKeys.TryRemove(entry);
            }
        }
        return _staleKeys.IsEmpty;
    }

    private async Task<bool> DeleteAsync(string entity, IEnumerable<string> keys, CancellationToken cancellationToken) =>
        await TryAsync<object>(entity, "invalidate", async ct =>
        {
            await Task.WhenAll(keys.Select(k => dapr.DeleteStateAsync(options.StateStoreName, k, cancellationToken: ct)));
            return true;
        }, cancellationToken) is not null;

    /// <summary>One cache operation through the store's breaker (slow or down: the request goes on without the cache).</summary>
    private async Task<T?> TryAsync<T>(string entity, string operation, Func<CancellationToken, Task<T?>> action, CancellationToken cancellationToken)
    {
        try
        {
            return await breaker.ExecuteAsync(options.StateStoreName, async ct => await action(ct), cancellationToken);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.CacheLookup(entity, "error");
            logger.LogWarning("Cache {Operation} for {Entity} failed; using the database: {Reason}", operation, entity, e.Message);
            return default;
        }
    }
}
