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
                            metadata: Ttl(ttl),
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
    /// Versioned cache-aside, for values whose row carries a version that grows with every change (e.g. a balance).
    /// An entry holds a value at a version, or only a version (a stale mark, <see cref="MarkStaleAsync"/>): the version
    /// a write committed, below which no value may be stored again. The cached value is served when it is at least
    /// <paramref name="minimumVersion"/>; otherwise <paramref name="load"/>'s is, and stored unless the entry already
    /// holds a newer value or a newer mark. So a reader that loaded before a commit cannot put the replaced value back.
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
        if (cached?.Value is { } hit && cached.Version >= minimumVersion)
        {
            metrics.CacheLookup(entity, "hit");
            return hit;
        }
        metrics.CacheLookup(entity, cached is null ? "miss" : "stale");
        var (value, version) = await load(cancellationToken);
        await FillAsync(entity, key, value, version, ttl, cancellationToken);
        return value;
    }

    /// <summary>
    /// After a commit: marks each key stale at the version the commit wrote, in one call to the state store, so the
    /// next read loads the committed value. Marks are written, not compared: a mark landing after a newer one (two
    /// commits whose calls overtake each other) only lets an older value be stored again, and only by a reader that
    /// loaded between the two commits. When the store cannot be reached the keys are bypassed until a retry removes them.
    /// </summary>
    public async Task MarkStaleAsync(string entity, IReadOnlyCollection<(string Key, long Version)> entries, TimeSpan ttl, CancellationToken cancellationToken)
    {
        if (entries.Count == 0)
        {
            return;
        }
        var metadata = Ttl(ttl);
        var marked = await TryAsync<object>(entity, "mark", async ct =>
        {
            await dapr.SaveBulkStateAsync(options.StateStoreName,
                entries.Select(e => new SaveStateItem<StaleMark>(e.Key, new StaleMark(e.Version), etag: null!, metadata: metadata)).ToList(), ct);
            return true;
        }, cancellationToken);
        if (marked is null)
        {
            var failure = Interlocked.Increment(ref _failures);
            foreach (var (key, _) in entries)
            {
                _staleKeys[key] = failure;
            }
        }
    }

    /// <summary>
    /// Stores a loaded value unless the entry holds a newer value, the same one, or a mark above its version:
    /// compare-and-set on the state store's ETag. A missing entry is created with the ETag <c>-1</c>, which no entry
    /// ever has: state.redis creates a missing key whatever ETag a save carries and refuses any other mismatch, so the
    /// write loses to a mark that landed after the read. (First-write concurrency would do for creating, but it makes
    /// the key refuse every later save without an ETag, and so the marks.) A failure only costs the next read a load.
    /// </summary>
    private async Task FillAsync<T>(string entity, string key, T value, long version, TimeSpan ttl, CancellationToken cancellationToken)
        where T : class, IMessage<T>, new() =>
        await TryAsync<object>(entity, "set", async ct =>
        {
            var bytes = Versioned<T>.Format(value, version);
            var metadata = Ttl(ttl);
            // Each round loses only to a concurrent writer, which leaves a newer version or lets the next round win.
            for (var round = 0; round < 8; round++)
            {
                var (current, etag) = await dapr.GetByteStateAndETagAsync(options.StateStoreName, key, cancellationToken: ct);
                if (Versioned<T>.Parse(current) is { } existing && (existing.Version > version || (existing.Version == version && existing.Value is not null)))
                {
                    return true;
                }
                if (await dapr.TrySaveByteStateAsync(options.StateStoreName, key, bytes, string.IsNullOrEmpty(etag) ? "-1" : etag, metadata: metadata, cancellationToken: ct))
                {
                    return true;
                }
            }
            throw new InvalidOperationException($"{key}: too much contention to store version {version}");
        }, cancellationToken);

    private static Dictionary<string, string> Ttl(TimeSpan ttl) =>
        new() { ["ttlInSeconds"] = ((int)ttl.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) };

    /// <summary>An entry with a version and no value: <c>{"version":n}</c>.</summary>
    private sealed record StaleMark(long Version);

    /// <summary>
    /// A cached value with the version of the row it was read from, stored as <c>{"version":n,"value":{…}}</c>; a
    /// stale mark has no value.
    /// </summary>
    private sealed record Versioned<T>(T? Value, long Version) where T : class, IMessage<T>, new()
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
            var value = json.RootElement.TryGetProperty("value", out var element) ? JsonParser.Default.Parse<T>(element.GetRawText()) : null;
            return new Versioned<T>(value, json.RootElement.GetProperty("version").GetInt64());
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
