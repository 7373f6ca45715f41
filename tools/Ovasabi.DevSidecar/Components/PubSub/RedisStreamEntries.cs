using System.Text.Encodings.Web;
using System.Text.Json;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Components.PubSub;

/// <summary>The stream layout daprd's <c>pubsub.redis</c> uses, and the commands the library has no typed form for.</summary>
internal static class RedisStreamEntries
{
    public const string DataField = "data";
    public const string MetadataField = "metadata";

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] EncodeMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            foreach (var (key, value) in metadata)
            {
                writer.WriteString(key, value);
            }
            writer.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The message an entry holds; a <c>metadata</c> field that is not a JSON object yields no metadata.</summary>
    public static PubSubMessage Decode(string topic, StreamEntry entry, ILogger logger)
    {
        byte[] data = [];
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in entry.Values)
        {
            if (field.Name == DataField)
            {
                data = (byte[]?)field.Value ?? [];
            }
            else if (field.Name == MetadataField && !TryDecodeMetadata(field.Value, metadata))
            {
                logger.LogWarning("redis streams: entry {Id} of {Topic} has a metadata field that is not a JSON object; ignored", entry.Id, topic);
            }
        }
        return new PubSubMessage(topic, data, metadata);
    }

    /// <summary>XGROUP CREATE from the start of the stream (a new group gets every retained entry), creating the stream.</summary>
    public static async Task CreateGroupAsync(IDatabaseAsync database, string topic, string group)
    {
        try
        {
            await database.StreamCreateConsumerGroupAsync(topic, group, StreamPosition.Beginning, createStream: true);
        }
        catch (RedisServerException e) when (e.Message.StartsWith("BUSYGROUP", StringComparison.Ordinal))
        {
            // The group exists already: another replica or an earlier run created it.
        }
    }

    /// <summary>
    /// The stream or the group is gone: NOGROUP for a new read, UNBLOCKED for a read that was waiting
    /// when the stream key was deleted.
    /// </summary>
    public static bool IsGroupLost(Exception e) =>
        e is RedisServerException
        && (e.Message.StartsWith("NOGROUP", StringComparison.Ordinal) || e.Message.StartsWith("UNBLOCKED", StringComparison.Ordinal));

    /// <summary>
    /// XREADGROUP ... BLOCK, which the library only offers without BLOCK. The connection must speak RESP2,
    /// whose reply is <c>[[stream, [[id, [field, value, ...]], ...]]]</c>, or nil when the wait ran out.
    /// </summary>
    public static async Task<IReadOnlyList<StreamEntry>> ReadNewAsync(
        IDatabaseAsync database, string topic, string group, int count, TimeSpan block)
    {
        var reply = await database.ExecuteAsync(
            "XREADGROUP",
            ["GROUP", group, group, "COUNT", count, "BLOCK", (long)block.TotalMilliseconds, "STREAMS", topic, ">"]);
        if (reply.IsNull || reply.Length == 0)
        {
            return [];
        }
        var entries = new List<StreamEntry>();
        foreach (var stream in (RedisResult[])reply!)
        {
            foreach (var item in (RedisResult[])stream[1]!)
            {
                var fields = (RedisResult[])item[1]!;
                var values = new NameValueEntry[fields.Length / 2];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = new NameValueEntry((RedisValue)fields[2 * i], (RedisValue)fields[(2 * i) + 1]);
                }
                entries.Add(new StreamEntry((RedisValue)item[0], values));
            }
        }
        return entries;
    }

    private static bool TryDecodeMetadata(RedisValue raw, Dictionary<string, string> into)
    {
        try
        {
            using var document = JsonDocument.Parse((ReadOnlyMemory<byte>)(byte[])raw!);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
            foreach (var property in document.RootElement.EnumerateObject())
            {
                // Values are strings when daprd or this component wrote them; keep anything else as its JSON text.
                into[property.Name] = property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()!
                    : property.Value.GetRawText();
            }
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
