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
public sealed class StateCache(DaprClient dapr, ServiceOptions options, ServiceMetrics metrics, ILogger<StateCache> logger)
{
    // A cache that answers slower than this is treated as down for this request.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);

    public string Key(string entity, string id, string? attribute = null) =>
        attribute is null ? $"{options.Name}:{entity}:{id}" : $"{options.Name}:{entity}:{id}:{attribute}";

    /// <summary>The cached message, else <paramref name="load"/>'s (stored with <paramref name="ttl"/>); null when neither has one.</summary>
    public async Task<T?> GetOrLoadAsync<T>(string entity, string key, TimeSpan ttl, Func<CancellationToken, Task<T?>> load, CancellationToken cancellationToken)
        where T : class, IMessage<T>, new()
    {
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
        var loaded = await load(cancellationToken);
        if (loaded is not null)
        {
            await TryAsync<object?>(entity, "set", async ct =>
            {
                await dapr.SaveByteStateAsync(options.StateStoreName, key, System.Text.Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(loaded)),
                    metadata: new Dictionary<string, string> { ["ttlInSeconds"] = ((int)ttl.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    cancellationToken: ct);
                return null;
            }, cancellationToken);
        }
        return loaded;
    }

    /// <summary>Removes entries after a write committed; a failure leaves them to expire with their TTL.</summary>
    public Task InvalidateAsync(string entity, IEnumerable<string> keys, CancellationToken cancellationToken) =>
        TryAsync<object?>(entity, "invalidate", async ct =>
        {
            await Task.WhenAll(keys.Select(k => dapr.DeleteStateAsync(options.StateStoreName, k, cancellationToken: ct)));
            return null;
        }, cancellationToken);

    private async Task<T?> TryAsync<T>(string entity, string operation, Func<CancellationToken, Task<T?>> action, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            return await action(timeout.Token);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.CacheLookup(entity, "error");
            logger.LogWarning("Cache {Operation} for {Entity} failed; using the database: {Reason}", operation, entity, e.Message);
            return default;
        }
    }
}
