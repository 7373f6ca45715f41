using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ovasabi.DevSidecar.Messaging;

/// <summary>What a publish request carries into the envelope.</summary>
public sealed record PublishEnvelope(
    string AppId,
    string PubSubName,
    string Topic,
    byte[] Data,
    string? ContentType,
    IReadOnlyDictionary<string, string> Metadata);

/// <summary>Builds the CloudEvents 1.0 envelope daprd wraps around published data (components-contrib's envelope rules).</summary>
public static class CloudEvents
{
    public const string DefaultType = "com.dapr.event.sent";
    public const string CloudEventsContentType = "application/cloudevents+json";
    private const string OverridePrefix = "cloudevent.";

    public static bool IsRawPayload(IReadOnlyDictionary<string, string> metadata) =>
        metadata.TryGetValue("rawPayload", out var raw) && bool.TryParse(raw, out var isRaw) && isRaw;

    /// <exception cref="FormatException">the data claims to be a CloudEvent but is not a JSON object</exception>
    public static byte[] Wrap(PublishEnvelope request, Activity? activity, DateTimeOffset now)
    {
        var contentType = string.IsNullOrEmpty(request.ContentType) ? "text/plain" : request.ContentType;
        JsonObject envelope;
        if (MediaType(contentType) == CloudEventsContentType)
        {
            envelope = ParseObject(request.Data) ?? throw new FormatException("the data is not a JSON CloudEvent");
            envelope.TryAdd("id", Guid.NewGuid().ToString());
            envelope.TryAdd("source", "Dapr");
            envelope.TryAdd("type", DefaultType);
            envelope.TryAdd("specversion", "1.0");
        }
        else
        {
            envelope = new JsonObject
            {
                ["id"] = Guid.NewGuid().ToString(),
                ["source"] = request.AppId,
                ["type"] = DefaultType,
                ["specversion"] = "1.0",
                ["datacontenttype"] = contentType,
            };
            SetData(envelope, request.Data, contentType);
        }
        envelope["topic"] = request.Topic;
        envelope["pubsubname"] = request.PubSubName;
        var traceparent = activity is null ? "" : activity.Id ?? "";
        envelope.TryAdd("traceid", traceparent);
        envelope.TryAdd("traceparent", traceparent);
        envelope.TryAdd("tracestate", activity?.TraceStateString ?? "");
        envelope.TryAdd("time", Rfc3339(now));

        foreach (var (key, value) in request.Metadata)
        {
            if (key.StartsWith(OverridePrefix, StringComparison.OrdinalIgnoreCase) && key.Length > OverridePrefix.Length)
            {
                var attribute = key[OverridePrefix.Length..].ToLowerInvariant();
                if (attribute is "id" or "source" or "type" or "subject" or "traceid" or "traceparent" or "tracestate")
                {
                    envelope[attribute] = value;
                }
            }
        }
        if (Ttl(request.Metadata) is { } ttl)
        {
            envelope["expiration"] = Rfc3339(now + ttl);
        }
        return JsonSerializer.SerializeToUtf8Bytes(envelope);
    }

    /// <summary>The envelope daprd builds for a raw-payload subscription from the broker's bytes.</summary>
    public static JsonObject ForRawPayload(string pubsub, string topic, byte[] data, IReadOnlyDictionary<string, string> metadata) => new()
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["source"] = "Dapr",
        ["type"] = DefaultType,
        ["specversion"] = "1.0",
        ["datacontenttype"] = "application/octet-stream",
        ["data_base64"] = Convert.ToBase64String(data),
        ["topic"] = topic,
        ["pubsubname"] = pubsub,
        ["traceid"] = metadata.GetValueOrDefault("traceid") ?? metadata.GetValueOrDefault("traceparent") ?? "",
        ["traceparent"] = metadata.GetValueOrDefault("traceparent") ?? metadata.GetValueOrDefault("traceid") ?? "",
        ["tracestate"] = metadata.GetValueOrDefault("tracestate") ?? "",
    };

    private static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static JsonObject? ParseObject(byte[] data)
    {
        try
        {
            return JsonNode.Parse(data) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public static bool IsExpired(JsonObject cloudEvent, DateTimeOffset now) =>
        cloudEvent["expiration"] is JsonValue value && value.TryGetValue<string>(out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expiration)
        && expiration < now;

    private static TimeSpan? Ttl(IReadOnlyDictionary<string, string> metadata)
    {
        var raw = metadata.GetValueOrDefault("ttlInSeconds") ?? metadata.GetValueOrDefault("ttl");
        if (string.IsNullOrEmpty(raw))
        {
            return null;
        }
        if (long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds))
        {
            return seconds > 0 ? TimeSpan.FromSeconds(seconds) : throw new FormatException($"ttlInSeconds must be positive, got {raw}");
        }
        return Hosting.GoDuration.TryParse(raw, out var duration) && duration > TimeSpan.Zero
            ? duration
            : throw new FormatException($"'{raw}' is not a valid ttlInSeconds");
    }

    /// <summary>Validates publish metadata daprd parses itself, so a bad value is refused before anything is sent.</summary>
    public static void ValidateMetadata(IReadOnlyDictionary<string, string> metadata) => Ttl(metadata);

    private static void SetData(JsonObject envelope, byte[] data, string contentType)
    {
        var media = MediaType(contentType);
        if (IsBinary(media))
        {
            envelope["data_base64"] = Convert.ToBase64String(data);
            return;
        }
        var text = Encoding.UTF8.GetString(data);
        if (media == "application/json" || media.EndsWith("+json", StringComparison.Ordinal))
        {
            try
            {
                envelope["data"] = JsonNode.Parse(text);
                return;
            }
            catch (JsonException)
            {
                // daprd keeps unparseable JSON as a string.
            }
        }
        envelope["data"] = text;
    }

    private static bool IsBinary(string media) =>
        media is "application/octet-stream" or "application/x-protobuf" or "application/protobuf" or "application/grpc"
        || media.StartsWith("image/", StringComparison.Ordinal) || media.StartsWith("audio/", StringComparison.Ordinal)
        || media.StartsWith("video/", StringComparison.Ordinal);

    private static string MediaType(string contentType) => contentType.Split(';')[0].Trim().ToLowerInvariant();
}
