using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Ovasabi.DevSidecar.Components.State;

/// <summary>
/// The SQL of one <c>state.postgresql</c> table layout. Table names are checked identifiers and used unquoted,
/// as daprd uses them, so both sidecars address the same table.
/// </summary>
internal abstract class PostgresStateTable(string name)
{
    public string Name { get; } = name;

    /// <summary>The metadata-table key under which daprd records this table's migration level.</summary>
    public abstract string MigrationKey { get; }

    /// <summary>
    /// The daprd migration level <see cref="SchemaStatements"/> reach. Later daprd migrations (e.g. its row_id
    /// column) are left to daprd, which runs them from this level if it ever opens the table.
    /// </summary>
    public abstract int MigrationLevel { get; }

    /// <summary>Idempotent statements that create the table or bring an older one up to <see cref="MigrationLevel"/>.</summary>
    public abstract IReadOnlyList<string> SchemaStatements { get; }

    /// <summary>The metadata-table key holding the time of the last cleanup, shared with daprd.</summary>
    public abstract string LastCleanupKey { get; }

    public abstract string DeleteExpiredSql { get; }

    /// <summary>Selects a live row by key ($1): value, etag as text, expiry (or null), then layout-specific columns.</summary>
    public abstract string SelectSql { get; }

    /// <summary>The value as the caller stored it, from a row of <see cref="SelectSql"/>.</summary>
    /// <exception cref="StateStoreException">the stored value cannot be decoded</exception>
    public abstract byte[] ReadValue(NpgsqlDataReader reader);

    /// <summary>The write; it affects exactly one row when it succeeds.</summary>
    /// <exception cref="ETagMismatchException">the etag cannot match any row</exception>
    /// <exception cref="ETagInvalidException">the etag is malformed and the layout reports that</exception>
    public abstract NpgsqlCommand CreateSet(StateSetRequest request, int? expiresInSeconds);

    /// <summary>The delete; with an etag it affects exactly one row when it succeeds.</summary>
    public abstract NpgsqlCommand CreateDelete(StateDeleteRequest request);

    protected static NpgsqlCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    protected static NpgsqlParameter Text(string value) => new NpgsqlParameter<string> { TypedValue = value };

    /// <summary>Seconds to expiry as a nullable integer, so <c>now() + $n * interval '1 second'</c> is NULL without TTL.</summary>
    protected static NpgsqlParameter Seconds(int? seconds) =>
        new() { NpgsqlDbType = NpgsqlDbType.Integer, Value = seconds is { } s ? s : DBNull.Value };
}

/// <summary>
/// daprd's v1 layout: <c>value jsonb</c> plus <c>isbinary</c>; the etag is the row's <c>xmin</c>. Values that are
/// not JSON are stored as a base64 JSON string with <c>isbinary = true</c>.
/// </summary>
internal sealed class PostgresStateTableV1(string name) : PostgresStateTable(name)
{
    public override string MigrationKey => "migrations";

    // daprd migration 1 creates the table, 2 adds expiredate.
    public override int MigrationLevel => 2;

    public override IReadOnlyList<string> SchemaStatements =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS {Name} (
          key text NOT NULL PRIMARY KEY,
          value jsonb NOT NULL,
          isbinary boolean NOT NULL,
          insertdate timestamp with time zone NOT NULL DEFAULT now(),
          updatedate timestamp with time zone NULL,
          expiredate timestamp with time zone NULL)
        """,
        $"ALTER TABLE {Name} ADD COLUMN IF NOT EXISTS expiredate timestamp with time zone NULL",
    ];

    public override string LastCleanupKey => "last-cleanup";

    public override string DeleteExpiredSql => $"DELETE FROM {Name} WHERE expiredate IS NOT NULL AND expiredate < now()";

    public override string SelectSql =>
        $"SELECT value, xmin::text, expiredate, isbinary FROM {Name} WHERE key = $1 AND (expiredate IS NULL OR expiredate >= now())";

    public override byte[] ReadValue(NpgsqlDataReader reader)
    {
        var json = reader.GetString(0);
        if (!reader.GetBoolean(3))
        {
            return Encoding.UTF8.GetBytes(json);
        }
        try
        {
            return Convert.FromBase64String(JsonSerializer.Deserialize<string>(json) ?? "");
        }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new StateStoreException($"stored binary value is not a base64 JSON string: {e.Message}", e);
        }
    }

    public override NpgsqlCommand CreateSet(StateSetRequest request, int? expiresInSeconds)
    {
        // Base64 needs no JSON escaping, so quoting it makes the JSON string daprd stores.
        var json = request.IsJson ? Encoding.UTF8.GetString(request.Value) : $"\"{Convert.ToBase64String(request.Value)}\"";
        NpgsqlParameter[] parameters =
        [
            Text(request.Key),
            new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Jsonb, TypedValue = json },
            new NpgsqlParameter<bool> { TypedValue = !request.IsJson },
            Seconds(expiresInSeconds),
        ];
        if (request.ETag is null)
        {
            // An existing row is replaced, except under first-write, where only an expired one may be.
            var onlyExpired = request.Concurrency == StateConcurrency.FirstWrite
                ? " WHERE t.expiredate IS NOT NULL AND t.expiredate < now()"
                : "";
            return Command(
                $"""
                INSERT INTO {Name} AS t (key, value, isbinary, expiredate)
                VALUES ($1, $2, $3, now() + $4 * interval '1 second')
                ON CONFLICT (key) DO UPDATE
                SET value = excluded.value, isbinary = excluded.isbinary, updatedate = now(), expiredate = excluded.expiredate
                """ + onlyExpired,
                parameters);
        }
        return Command(
            $"""
            UPDATE {Name}
            SET value = $2, isbinary = $3, updatedate = now(), expiredate = now() + $4 * interval '1 second'
            WHERE key = $1 AND xmin = $5 AND (expiredate IS NULL OR expiredate > now())
            """,
            [.. parameters, Xmin(request.ETag)]);
    }

    public override NpgsqlCommand CreateDelete(StateDeleteRequest request) => request.ETag is null
        ? Command($"DELETE FROM {Name} WHERE key = $1", Text(request.Key))
        : Command($"DELETE FROM {Name} WHERE key = $1 AND xmin = $2", Text(request.Key), Xmin(request.ETag));

    // xmin is a 32-bit transaction id; anything else can never be one (daprd: InvalidArgument).
    private static NpgsqlParameter Xmin(string etag) =>
        uint.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var xid)
            ? new NpgsqlParameter<uint> { NpgsqlDbType = NpgsqlDbType.Xid, TypedValue = xid }
            : throw new ETagInvalidException();
}

/// <summary>
/// daprd's v2 layout (<c>&lt;tablePrefix&gt;state</c>): raw <c>value bytea</c> and an <c>etag uuid</c> renewed on
/// every write. A malformed etag cannot match, so it is a mismatch, as in daprd.
/// </summary>
internal sealed class PostgresStateTableV2(string name, string prefix) : PostgresStateTable(name)
{
    public override string MigrationKey => "migrations-state-v2-" + prefix;

    // daprd migration 1 creates the table and its expiry index.
    public override int MigrationLevel => 1;

    public override IReadOnlyList<string> SchemaStatements =>
    [
        $"""
        CREATE TABLE IF NOT EXISTS {Name} (
          key text NOT NULL PRIMARY KEY,
          value bytea NOT NULL,
          etag uuid NOT NULL DEFAULT gen_random_uuid(),
          created_at timestamp with time zone NOT NULL DEFAULT now(),
          updated_at timestamp with time zone,
          expires_at timestamp with time zone)
        """,
        // The name PostgreSQL gives daprd's unnamed index, so neither sidecar adds a second one.
        $"CREATE INDEX IF NOT EXISTS {Name.Split('.')[^1]}_expires_at_idx ON {Name} (expires_at)",
    ];

    public override string LastCleanupKey => "last-cleanup-state-v2-" + prefix;

    public override string DeleteExpiredSql => $"DELETE FROM {Name} WHERE expires_at IS NOT NULL AND expires_at < now()";

    public override string SelectSql =>
        $"SELECT value, etag::text, expires_at FROM {Name} WHERE key = $1 AND (expires_at IS NULL OR expires_at >= now())";

    public override byte[] ReadValue(NpgsqlDataReader reader) => reader.GetFieldValue<byte[]>(0);

    public override NpgsqlCommand CreateSet(StateSetRequest request, int? expiresInSeconds)
    {
        NpgsqlParameter[] parameters =
        [
            Text(request.Key),
            new NpgsqlParameter<byte[]> { NpgsqlDbType = NpgsqlDbType.Bytea, TypedValue = request.Value },
            Seconds(expiresInSeconds),
        ];
        if (request.ETag is null)
        {
            var onlyExpired = request.Concurrency == StateConcurrency.FirstWrite
                ? " WHERE t.expires_at IS NOT NULL AND t.expires_at < now()"
                : "";
            return Command(
                $"""
                INSERT INTO {Name} AS t (key, value, etag, expires_at)
                VALUES ($1, $2, gen_random_uuid(), now() + $3 * interval '1 second')
                ON CONFLICT (key) DO UPDATE
                SET value = excluded.value, etag = gen_random_uuid(), updated_at = now(), expires_at = excluded.expires_at
                """ + onlyExpired,
                parameters);
        }
        return Command(
            $"""
            UPDATE {Name}
            SET value = $2, etag = gen_random_uuid(), updated_at = now(), expires_at = now() + $3 * interval '1 second'
            WHERE key = $1 AND etag = $4 AND (expires_at IS NULL OR expires_at >= now())
            """,
            [.. parameters, Etag(request.ETag)]);
    }

    public override NpgsqlCommand CreateDelete(StateDeleteRequest request) => request.ETag is null
        ? Command($"DELETE FROM {Name} WHERE key = $1", Text(request.Key))
        : Command($"DELETE FROM {Name} WHERE key = $1 AND etag = $2", Text(request.Key), Etag(request.ETag));

    private static NpgsqlParameter Etag(string etag) =>
        Guid.TryParse(etag, out var uuid)
            ? new NpgsqlParameter<Guid> { TypedValue = uuid }
            : throw new ETagMismatchException();
}
