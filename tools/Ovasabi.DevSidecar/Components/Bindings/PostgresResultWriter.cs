using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// Renders query results as daprd does: a JSON array of rows, each row an array of column values in column
/// order, every value shaped the way pgx decodes it and Go's encoding/json prints it.
/// </summary>
internal static class PostgresResultWriter
{
    /// <exception cref="BindingException">a value cannot be read or has no JSON form (NaN, infinity, numeric beyond decimal)</exception>
    public static async Task<byte[]> WriteAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>();
        await using (var writer = new Utf8JsonWriter(buffer, GoCompat.WriterOptions))
        {
            writer.WriteStartArray();
            while (await reader.ReadAsync(cancellationToken))
            {
                writer.WriteStartArray();
                for (var column = 0; column < reader.FieldCount; column++)
                {
                    try
                    {
                        WriteColumn(writer, reader, column);
                    }
                    catch (Exception ex) when (ex is InvalidCastException or OverflowException or JsonException or NotSupportedException)
                    {
                        throw new BindingException(
                            $"error reading result: column {column + 1} ({reader.GetDataTypeName(column)}): {ex.Message}", ex);
                    }
                }
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteColumn(Utf8JsonWriter writer, NpgsqlDataReader reader, int column)
    {
        if (reader.IsDBNull(column))
        {
            writer.WriteNullValue();
            return;
        }
        var type = reader.GetPostgresType(column).InternalName;
        switch (type)
        {
            case "interval":
                // Read whole: a TimeSpan cannot hold months.
                WriteValue(writer, reader.GetFieldValue<NpgsqlInterval>(column), isJson: false);
                break;
            case "inet":
                // Read whole: an IPAddress loses the prefix length.
                WriteValue(writer, reader.GetFieldValue<NpgsqlInet>(column), isJson: false);
                break;
            default:
                WriteValue(writer, reader.GetValue(column), isJson: type is "json" or "jsonb" or "_json" or "_jsonb");
                break;
        }
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, bool isJson)
    {
        switch (value)
        {
            case null or DBNull:
                writer.WriteNullValue();
                break;
            case string json when isJson:
                using (var document = JsonDocument.Parse(json))
                {
                    WriteGoJson(writer, document.RootElement);
                }
                break;
            case string or char:
                writer.WriteStringValue(value.ToString());
                break;
            case bool flag:
                writer.WriteBooleanValue(flag);
                break;
            case short or int or long or byte or sbyte or ushort or uint or ulong:
                writer.WriteRawValue(Convert.ToString(value, CultureInfo.InvariantCulture)!, skipInputValidation: true);
                break;
            case float single:
                writer.WriteRawValue(GoCompat.FormatFloat(single, singlePrecision: true), skipInputValidation: true);
                break;
            case double number:
                writer.WriteRawValue(GoCompat.FormatFloat(number), skipInputValidation: true);
                break;
            case decimal number:
                // pgx prints numeric with its scale ("12.50").
                writer.WriteRawValue(number.ToString(CultureInfo.InvariantCulture), skipInputValidation: true);
                break;
            case DateTime instant:
                // timestamptz, timestamp and date all come out of pgx as Go times, printed RFC3339Nano in UTC.
                writer.WriteStringValue(GoCompat.FormatTime(instant));
                break;
            case DateOnly date:
                writer.WriteStringValue(GoCompat.FormatTime(date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc)));
                break;
            case TimeOnly time:
                // pgx's time type has no JSON form of its own, so Go prints the struct.
                writer.WriteStartObject();
                writer.WriteNumber("Microseconds", time.Ticks / TimeSpan.TicksPerMicrosecond);
                writer.WriteBoolean("Valid", true);
                writer.WriteEndObject();
                break;
            case NpgsqlInterval interval:
                WriteInterval(writer, interval.Time, interval.Days, interval.Months);
                break;
            case TimeSpan span:
                WriteInterval(writer, span.Ticks / TimeSpan.TicksPerMicrosecond, days: 0, months: 0);
                break;
            case Guid uuid:
                // pgx returns a uuid as [16]byte, which Go prints as an array of numbers.
                writer.WriteStartArray();
                foreach (var b in uuid.ToByteArray(bigEndian: true))
                {
                    writer.WriteNumberValue(b);
                }
                writer.WriteEndArray();
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            case NpgsqlInet inet:
                writer.WriteStringValue($"{inet.Address}/{inet.Netmask}");
                break;
            case IPAddress address:
                writer.WriteStringValue($"{address}/{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)}");
                break;
            case Array array:
                WriteArray(writer, array, dimension: 0, indices: new int[array.Rank], isJson);
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    /// <summary>pgx's interval struct as Go prints it; <see cref="NpgsqlInterval.Time"/> already counts microseconds.</summary>
    private static void WriteInterval(Utf8JsonWriter writer, long microseconds, int days, int months)
    {
        writer.WriteStartObject();
        writer.WriteNumber("Microseconds", microseconds);
        writer.WriteNumber("Days", days);
        writer.WriteNumber("Months", months);
        writer.WriteBoolean("Valid", true);
        writer.WriteEndObject();
    }

    private static void WriteArray(Utf8JsonWriter writer, Array array, int dimension, int[] indices, bool isJson)
    {
        writer.WriteStartArray();
        for (var i = array.GetLowerBound(dimension); i <= array.GetUpperBound(dimension); i++)
        {
            indices[dimension] = i;
            if (dimension == array.Rank - 1)
            {
                WriteValue(writer, array.GetValue(indices), isJson);
            }
            else
            {
                WriteArray(writer, array, dimension + 1, indices, isJson);
            }
        }
        writer.WriteEndArray();
    }

    /// <summary>
    /// JSON read by Go into interface values and printed again: object keys sorted (the last duplicate wins),
    /// every number a float64.
    /// </summary>
    private static void WriteGoJson(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = new SortedDictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in element.EnumerateObject())
                {
                    properties[property.Name] = property.Value;
                }
                writer.WriteStartObject();
                foreach (var (name, value) in properties)
                {
                    writer.WritePropertyName(name);
                    WriteGoJson(writer, value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var item in element.EnumerateArray())
                {
                    WriteGoJson(writer, item);
                }
                writer.WriteEndArray();
                break;
            case JsonValueKind.Number:
                writer.WriteRawValue(GoCompat.FormatFloat(element.GetDouble()), skipInputValidation: true);
                break;
            default:
                element.WriteTo(writer);
                break;
        }
    }
}
