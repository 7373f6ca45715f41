using System.Globalization;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Components.PubSub;

/// <summary>The metadata of a <c>pubsub.redis</c> component, validated, with daprd's defaults.</summary>
internal sealed partial record RedisStreamsSettings
{
    public required RedisConnection Connection { get; init; }

    /// <summary>The consumer group, also used as the consumer name (so replicas of one app compete).</summary>
    public required string ConsumerId { get; init; }

    public int Concurrency { get; init; }

    public int QueueDepth { get; init; }

    public TimeSpan ProcessingTimeout { get; init; }

    public TimeSpan RedeliverInterval { get; init; }

    /// <summary>How long one XREADGROUP waits for new entries before it is issued again.</summary>
    public TimeSpan BlockTime { get; init; }

    public long? MaxLenApprox { get; init; }

    public TimeSpan? StreamTtl { get; init; }

    /// <summary>Reclaiming (and the per-message processing timeout) is off when either setting is zero, as in daprd.</summary>
    public bool Reclaims => ProcessingTimeout > TimeSpan.Zero && RedeliverInterval > TimeSpan.Zero;

    public static RedisStreamsSettings Parse(ComponentMetadata metadata, ComponentContext context)
    {
        // daprd reads plain numbers in these durations as milliseconds.
        var ms = TimeSpan.FromMilliseconds(1);
        var settings = new RedisStreamsSettings
        {
            Connection = RedisConnection.Parse(metadata),
            ConsumerId = ExpandPlaceholders(metadata, "consumerID", metadata.Get("consumerID") ?? context.AppId, context),
            Concurrency = metadata.Int("concurrency", 10),
            QueueDepth = metadata.Int("queueDepth", 100),
            ProcessingTimeout = metadata.Duration("processingTimeout", TimeSpan.FromSeconds(15), ms),
            RedeliverInterval = metadata.Duration("redeliverInterval", TimeSpan.FromSeconds(60), ms),
            // daprd blocks for readTimeout; a non-positive value there means "none", which a loop cannot use.
            BlockTime = PositiveOr(metadata.Duration("readTimeout", TimeSpan.Zero, ms), TimeSpan.FromSeconds(2)),
            MaxLenApprox = ParseMaxLen(metadata),
            StreamTtl = metadata.Duration("streamTTL", TimeSpan.Zero) is var ttl && ttl != TimeSpan.Zero ? ttl : null,
        };
        settings.Validate(metadata);
        return settings;
    }

    private void Validate(ComponentMetadata metadata)
    {
        if (Concurrency < 1)
        {
            throw metadata.Error("concurrency", "must be at least 1");
        }
        if (QueueDepth < 1)
        {
            throw metadata.Error("queueDepth", "must be at least 1");
        }
        if (ProcessingTimeout < TimeSpan.Zero)
        {
            throw metadata.Error("processingTimeout", "must not be negative");
        }
        if (RedeliverInterval < TimeSpan.Zero)
        {
            throw metadata.Error("redeliverInterval", "must not be negative");
        }
        if (StreamTtl < TimeSpan.Zero)
        {
            throw metadata.Error("streamTTL", "must not be negative");
        }
        if (MaxLenApprox is not null && StreamTtl is not null)
        {
            throw metadata.Error("maxLenApprox", "set either maxLenApprox or streamTTL, not both");
        }
    }

    private static TimeSpan PositiveOr(TimeSpan value, TimeSpan fallback) => value > TimeSpan.Zero ? value : fallback;

    private static long? ParseMaxLen(ComponentMetadata metadata)
    {
        var raw = metadata.Get("maxLenApprox");
        if (raw is null)
        {
            return null;
        }
        if (!long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < 0)
        {
            throw metadata.Error("maxLenApprox", $"'{raw}' is not a non-negative integer");
        }
        // daprd treats 0 as "no limit".
        return value == 0 ? null : value;
    }

    /// <summary>daprd's metadata placeholders; <c>{namespace}</c> becomes <c>namespace.appID</c> as daprd writes it.</summary>
    private static string ExpandPlaceholders(ComponentMetadata metadata, string field, string value, ComponentContext context)
    {
        // Each occurrence gets its own id, as in daprd.
        value = Uuid().Replace(value, _ => Guid.NewGuid().ToString());
        if (value.Contains("{podName}", StringComparison.Ordinal))
        {
            var pod = Environment.GetEnvironmentVariable("POD_NAME");
            if (string.IsNullOrEmpty(pod))
            {
                throw metadata.Error(field, "refers to {podName} but POD_NAME is not set");
            }
            value = value.Replace("{podName}", pod, StringComparison.Ordinal);
        }
        value = value
            .Replace("{namespace}", $"{context.Namespace}.{context.AppId}", StringComparison.Ordinal)
            .Replace("{appID}", context.AppId, StringComparison.Ordinal);
        return value.Length > 0 ? value : throw metadata.Error(field, "is empty and the app has no ID");
    }

    [GeneratedRegex(@"\{uuid\}", RegexOptions.CultureInvariant)]
    private static partial Regex Uuid();

}
