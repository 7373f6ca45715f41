using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// Binds the binding's <c>params</c> (a JSON array) to <c>$1..$n</c>. Every value goes to the server as text of
/// unknown type, so PostgreSQL reads it as whatever type the statement needs there, which is how pgx's
/// per-type encoding behaves for the JSON values daprd passes it. Values are always parameters, never SQL text.
/// </summary>
internal static class PostgresParameters
{
    private const string ProbeStatement = "ovasabi_binding_params_probe";

    /// <summary>2^53: beyond it a double no longer holds every integer, so the JSON text is kept as written.</summary>
    private const double MaxExactInteger = 9007199254740992d;

    /// <summary>The values of the <c>params</c> metadata, or none when it is absent, empty or JSON null.</summary>
    /// <exception cref="BindingException">not a JSON array</exception>
    public static IReadOnlyList<JsonElement> Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind switch
            {
                JsonValueKind.Array => [.. document.RootElement.EnumerateArray().Select(e => e.Clone())],
                JsonValueKind.Null => [],
                var kind => throw new BindingException(
                    $"invalid metadata property params: failed to unserialize into an array: found a JSON {kind.ToString().ToLowerInvariant()}"),
            };
        }
        catch (JsonException ex)
        {
            throw new BindingException($"invalid metadata property params: failed to unserialize into an array: {ex.Message}", ex);
        }
    }

    /// <summary>Adds the values to <paramref name="command"/>, asking the server for parameter types only when an array needs one.</summary>
    public static async Task BindAsync(NpgsqlCommand command, IReadOnlyList<JsonElement> values, CancellationToken cancellationToken)
    {
        // A JSON array may be meant for an array column ({1,2}) or a json/jsonb one ([1,2]); only the server knows.
        var types = values.Any(v => v.ValueKind == JsonValueKind.Array)
            ? await ParameterTypesAsync(command.Connection!, command.CommandText, cancellationToken)
            : [];
        for (var i = 0; i < values.Count; i++)
        {
            var targetIsArray = i < types.Count && types[i].EndsWith("[]", StringComparison.Ordinal);
            command.Parameters.Add(new NpgsqlParameter
            {
                NpgsqlDbType = NpgsqlDbType.Unknown,
                Value = Text(values[i], targetIsArray) ?? (object)DBNull.Value,
            });
        }
    }

    /// <summary>The server's types for $1..$n of <paramref name="sql"/>, from a throw-away prepared statement.</summary>
    private static async Task<IReadOnlyList<string>> ParameterTypesAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"PREPARE {ProbeStatement} AS {sql.TrimEnd().TrimEnd(';')}"),
                new NpgsqlBatchCommand($"SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = '{ProbeStatement}'"),
                new NpgsqlBatchCommand($"DEALLOCATE {ProbeStatement}"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        do
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                return reader.GetFieldValue<string[]>(0);
            }
        }
        while (await reader.NextResultAsync(cancellationToken));
        return [];
    }

    /// <summary>The text PostgreSQL parses for one value; null for JSON null.</summary>
    private static string? Text(JsonElement value, bool asArrayLiteral) => value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => NumberText(value),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array when asArrayLiteral => ArrayLiteral(value),
        _ => value.GetRawText(),
    };

    /// <summary>
    /// The JSON text, except that integral values written as "1e3" or "2.0" become "1000" and "2": pgx reads every
    /// JSON number as a float and stores integral ones in integer columns, which PostgreSQL's parser would refuse.
    /// </summary>
    private static string NumberText(JsonElement value) =>
        value.TryGetDouble(out var number) && Math.Abs(number) < MaxExactInteger && number == Math.Floor(number)
            ? ((long)number).ToString(CultureInfo.InvariantCulture)
            : value.GetRawText();

    /// <summary>A PostgreSQL array literal ({"a","b",NULL,{"1"}}) with every element quoted and escaped.</summary>
    private static string ArrayLiteral(JsonElement array)
    {
        var literal = new StringBuilder("{");
        var first = true;
        foreach (var element in array.EnumerateArray())
        {
            if (!first)
            {
                literal.Append(',');
            }
            first = false;
            if (element.ValueKind == JsonValueKind.Array)
            {
                literal.Append(ArrayLiteral(element));
                continue;
            }
            var text = Text(element, asArrayLiteral: false);
            if (text is null)
            {
                literal.Append("NULL");
                continue;
            }
            literal.Append('"')
                .Append(text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal))
                .Append('"');
        }
        return literal.Append('}').ToString();
    }
}
