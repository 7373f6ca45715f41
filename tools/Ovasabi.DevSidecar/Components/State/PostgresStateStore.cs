using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;

namespace Ovasabi.DevSidecar.Components.State;

/// <summary>
/// <c>state.postgresql</c> v1 (default) and v2 over daprd's table layouts (see <see cref="PostgresStateTableV1"/>,
/// <see cref="PostgresStateTableV2"/>), so a database can be shared with or handed over to daprd.
/// Tables are created on init and recorded at daprd's migration level in the metadata table. Expired rows are
/// hidden from reads and, every <c>cleanupInterval</c>, deleted by whichever sidecar claims the cleanup first.
/// </summary>
public sealed partial class PostgresStateStore : IStateStore
{
    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    private readonly string _name;
    private readonly PostgresStateTable _table;
    private readonly string _metadataTable;
    private readonly TimeSpan? _cleanupInterval;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _cleanup;
    private bool _disposed;

    public PostgresStateStore(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        _name = definition.Name;
        _table = definition.Version switch
        {
            "" or "v1" => new PostgresStateTableV1(TableName(metadata, "tableName", metadata.Optional("tableName", "state"))),
            "v2" => new PostgresStateTableV2(TableName(metadata, "tablePrefix", metadata.Optional("tablePrefix", "") + "state"), metadata.Optional("tablePrefix", "")),
            _ => throw new ComponentConfigurationException(definition.Name, definition.SourceFile, "", $"state.postgresql has no version '{definition.Version}' (v1, v2)"),
        };
        _metadataTable = TableName(metadata, "metadataTableName", metadata.Optional("metadataTableName", "dapr_metadata"));

        var timeout = DurationSetting(metadata, TimeSpan.FromSeconds(20), "timeout", "timeoutInSeconds");
        if (timeout < TimeSpan.FromSeconds(1))
        {
            throw metadata.Error("timeout", "must be at least 1s");
        }
        // Zero or negative turns the cleanup off, as in daprd.
        var cleanup = DurationSetting(metadata, TimeSpan.FromHours(1), "cleanupInterval", "cleanupIntervalInSeconds");
        _cleanupInterval = cleanup > TimeSpan.Zero ? cleanup : null;

        var connection = PostgresConnectionString.Parse(metadata);
        var timeoutSeconds = (int)Math.Ceiling(timeout.TotalSeconds);
        connection.CommandTimeout = timeoutSeconds;
        // Npgsql caps the connect timeout.
        connection.Timeout = Math.Min(timeoutSeconds, 1024);
        var maxConns = metadata.Int("maxConns", 0);
        if (maxConns > 0)
        {
            connection.MaxPoolSize = maxConns;
        }
        if (metadata.Get("connectionMaxIdleTime") is not null)
        {
            connection.ConnectionIdleLifetime = (int)Math.Ceiling(metadata.Duration("connectionMaxIdleTime", TimeSpan.Zero, TimeSpan.FromSeconds(1)).TotalSeconds);
        }
        _dataSource = new NpgsqlDataSourceBuilder(connection.ConnectionString).UseLoggerFactory(context.LoggerFactory).Build();
        _logger = context.LoggerFactory.CreateLogger<PostgresStateStore>();
        _time = context.Time;
    }

    public IReadOnlyCollection<string> Features { get; } = [StateFeatures.ETag, StateFeatures.Transactional, StateFeatures.Ttl];

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await MigrateAsync(connection, cancellationToken);
        }
        catch (NpgsqlException e)
        {
            throw new StateStoreException($"postgresql state store '{_name}': failed to prepare table {_table.Name}: {e.Message}", e);
        }
        if (_cleanupInterval is { } interval)
        {
            _cleanup = CleanupLoopAsync(interval, _stopping.Token);
        }
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            await using var command = _dataSource.CreateCommand(_table.SelectSql);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }
            var value = _table.ReadValue(reader);
            var metadata = await reader.IsDBNullAsync(2, cancellationToken)
                ? NoMetadata
                : new Dictionary<string, string>
                {
                    // RFC 3339 in UTC without fractions, as daprd formats it.
                    ["ttlExpireTime"] = reader.GetFieldValue<DateTime>(2).ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                };
            return new StateEntry(value, reader.GetString(1), metadata);
        }
        catch (NpgsqlException e)
        {
            throw new StateStoreException($"fail to get {key}: {e.Message}", e);
        }
    }

    public async Task SetAsync(StateSetRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await SetAsync(connection, request, cancellationToken);
        }
        catch (NpgsqlException e)
        {
            throw new StateStoreException($"failed to set key {request.Key}: {e.Message}", e);
        }
    }

    public async Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await DeleteAsync(connection, request, cancellationToken);
        }
        catch (NpgsqlException e)
        {
            throw new StateStoreException($"failed to delete key {request.Key}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs the operations in order inside one SQL transaction. Any failure, an etag mismatch included, rolls
    /// every operation back and is rethrown; nothing is written unless all succeed.
    /// </summary>
    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            foreach (var operation in operations)
            {
                await (operation switch
                {
                    StateUpsert upsert => SetAsync(connection, upsert.Request, cancellationToken),
                    StateDelete delete => DeleteAsync(connection, delete.Request, cancellationToken),
                    _ => throw new StateStoreException($"operation {operation.GetType().Name} is not supported"),
                });
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (NpgsqlException e)
        {
            throw new StateStoreException($"transaction failed and was rolled back: {e.Message}", e);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _stopping.CancelAsync();
        if (_cleanup is not null)
        {
            await _cleanup;
        }
        _stopping.Dispose();
        await _dataSource.DisposeAsync();
    }

    private async Task SetAsync(NpgsqlConnection connection, StateSetRequest request, CancellationToken cancellationToken)
    {
        var ttl = StateTtl.Parse(request.Metadata, rejectBelowMinusOne: true);
        await using var command = _table.CreateSet(request, ttl > 0 ? ttl : null);
        command.Connection = connection;
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            // With an etag: stale, or the row is gone or expired. Without: first-write found a live row.
            throw request.ETag is null
                ? new StateStoreException($"failed to set key {request.Key}: no item was updated (first-write: the key exists)")
                : new ETagMismatchException();
        }
    }

    private async Task DeleteAsync(NpgsqlConnection connection, StateDeleteRequest request, CancellationToken cancellationToken)
    {
        await using var command = _table.CreateDelete(request);
        command.Connection = connection;
        // With an etag a missing row is a mismatch too, as in daprd.
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1 && request.ETag is not null)
        {
            throw new ETagMismatchException();
        }
    }

    /// <summary>
    /// Creates the metadata and state tables under a transaction-scoped advisory lock, so sidecars starting together
    /// take turns; each then sees the others' tables and recorded level and has nothing left to do.
    /// </summary>
    private async Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtext($1))", cancellationToken, "dapr-state-schema:" + _metadataTable);
        await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {_metadataTable} (key text NOT NULL PRIMARY KEY, value text NOT NULL)", cancellationToken);

        await using var select = new NpgsqlCommand($"SELECT value FROM {_metadataTable} WHERE key = $1", connection);
        select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _table.MigrationKey });
        var recorded = await select.ExecuteScalarAsync(cancellationToken) as string;
        var level = 0;
        if (recorded is not null && !int.TryParse(recorded, NumberStyles.None, CultureInfo.InvariantCulture, out level))
        {
            throw new StateStoreException($"invalid migration level '{recorded}' under '{_table.MigrationKey}' in {_metadataTable}");
        }
        if (level < _table.MigrationLevel)
        {
            foreach (var statement in _table.SchemaStatements)
            {
                await ExecuteAsync(connection, statement, cancellationToken);
            }
            await ExecuteAsync(
                connection,
                $"INSERT INTO {_metadataTable} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                cancellationToken,
                _table.MigrationKey,
                _table.MigrationLevel.ToString(CultureInfo.InvariantCulture));
        }
        await transaction.CommitAsync(cancellationToken);
    }

    private async Task CleanupLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await CleanupExpiredAsync(interval, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogCleanupFailed(_logger, e, _table.Name);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed: the loop ends.
        }
    }

    /// <summary>
    /// Claims this round by moving the shared last-cleanup time forward only if it is older than the interval
    /// (one atomic upsert), so among several sidecars (or daprd) one deletes per interval.
    /// </summary>
    private async Task CleanupExpiredAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // A little slack so a timer that fires slightly early still claims its round.
        var claimed = await ExecuteAsync(
            connection,
            $"""
            INSERT INTO {_metadataTable} AS m (key, value) VALUES ($1, now()::text)
            ON CONFLICT (key) DO UPDATE SET value = now()::text
            WHERE m.value::timestamptz < now() - $2
            """,
            cancellationToken,
            _table.LastCleanupKey,
            interval * 0.9);
        if (claimed == 1)
        {
            var removed = await ExecuteAsync(connection, _table.DeleteExpiredSql, cancellationToken);
            LogCleanedUp(_logger, removed, _table.Name);
        }
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static TimeSpan DurationSetting(ComponentMetadata metadata, TimeSpan defaultValue, string name, string alias) =>
        metadata.Duration(metadata.Get(name) is null && metadata.Get(alias) is not null ? alias : name, defaultValue, TimeSpan.FromSeconds(1));

    private static string TableName(ComponentMetadata metadata, string field, string name) =>
        Identifier().IsMatch(name)
            ? name
            : throw metadata.Error(field, $"'{name}' is not a table name (letters, digits, _ and $, optionally schema-qualified)");

    // Names go into SQL text unquoted (as in daprd), so only plain identifiers are allowed.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Removing expired state from {Table} failed")]
    private static partial void LogCleanupFailed(ILogger logger, Exception exception, string table);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Removed {Count} expired rows from {Table}")]
    private static partial void LogCleanedUp(ILogger logger, int count, string table);
}
