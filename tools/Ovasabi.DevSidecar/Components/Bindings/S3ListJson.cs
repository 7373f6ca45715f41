using System.Text.Json;
using Amazon.S3.Model;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// The list result as daprd returns it: the Go AWS SDK's ListObjectsOutput marshalled by encoding/json, so
/// PascalCase fields in the struct's order, null for anything the server did not send, "" for unset enums.
/// </summary>
internal static class S3ListJson
{
    public static void Write(Utf8JsonWriter w, ListObjectsResponse response)
    {
        w.WriteStartObject();
        w.WritePropertyName("CommonPrefixes");
        if (response.CommonPrefixes is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartArray();
            foreach (var prefix in response.CommonPrefixes)
            {
                w.WriteStartObject();
                w.WriteString("Prefix", prefix);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WritePropertyName("Contents");
        if (response.S3Objects is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartArray();
            foreach (var item in response.S3Objects)
            {
                WriteObject(w, item);
            }
            w.WriteEndArray();
        }
        w.WriteString("Delimiter", response.Delimiter);
        w.WriteString("EncodingType", response.Encoding?.Value ?? "");
        WriteNullable(w, "IsTruncated", response.IsTruncated);
        w.WriteString("Marker", response.Marker);
        WriteNullable(w, "MaxKeys", response.MaxKeys);
        w.WriteString("Name", response.Name);
        w.WriteString("NextMarker", response.NextMarker);
        w.WriteString("Prefix", response.Prefix);
        w.WriteString("RequestCharged", response.RequestCharged?.Value ?? "");
        // Go's response metadata has no exported fields.
        w.WriteStartObject("ResultMetadata");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void WriteObject(Utf8JsonWriter w, S3Object item)
    {
        w.WriteStartObject();
        w.WritePropertyName("ChecksumAlgorithm");
        if (item.ChecksumAlgorithm is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartArray();
            item.ChecksumAlgorithm.ForEach(w.WriteStringValue);
            w.WriteEndArray();
        }
        w.WriteString("ChecksumType", item.ChecksumType?.Value ?? "");
        w.WriteString("ETag", item.ETag);
        w.WriteString("Key", item.Key);
        WriteTime(w, "LastModified", item.LastModified);
        w.WritePropertyName("Owner");
        if (item.Owner is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            w.WriteString("DisplayName", item.Owner.DisplayName);
            w.WriteString("ID", item.Owner.Id);
            w.WriteEndObject();
        }
        w.WritePropertyName("RestoreStatus");
        if (item.RestoreStatus is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            WriteNullable(w, "IsRestoreInProgress", item.RestoreStatus.IsRestoreInProgress);
            WriteTime(w, "RestoreExpiryDate", item.RestoreStatus.RestoreExpiryDate);
            w.WriteEndObject();
        }
        WriteNullable(w, "Size", item.Size);
        w.WriteString("StorageClass", item.StorageClass?.Value ?? "");
        w.WriteEndObject();
    }

    private static void WriteTime(Utf8JsonWriter w, string name, DateTime? value)
    {
        if (value is { } time)
        {
            w.WriteString(name, GoCompat.FormatTime(time));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, bool? value)
    {
        if (value is { } flag)
        {
            w.WriteBoolean(name, flag);
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, long? value)
    {
        if (value is { } number)
        {
            w.WriteNumber(name, number);
        }
        else
        {
            w.WriteNull(name);
        }
    }
}
