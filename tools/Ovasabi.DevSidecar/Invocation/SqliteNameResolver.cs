using System.Globalization;
using Microsoft.Data.Sqlite;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Invocation;

/// <summary>Finds the sidecar that serves an app ID.</summary>
public interface INameResolver : IAsyncDisposable
{
    /// <summary>Announces that this sidecar serves <paramref name="appId"/> at <paramref name="address"/> (host:port).</summary>
    Task RegisterAsync(string appId, string address, CancellationToken cancellationToken);

    /// <summary>An address of a live sidecar for <paramref name="appId"/>, or null when none is known.</summary>
    Task<string?> ResolveAsync(string appId, CancellationToken cancellationToken);
}

/// <summary>
/// Dapr's <c>nameresolution.sqlite</c> model: every sidecar on the host writes its address into one SQLite file and
/// refreshes it every <c>updateInterval</c>; readers ignore rows that stopped refreshing, so crashed sidecars drop out.
/// Connections are pooled, and the addresses found for an app ID are reused for <see cref="AnswerLifetime"/>: a
/// stopped replica's row counts as live for two update intervals anyway, so this delays nothing a caller could notice,
/// and calls no longer open the file each time. An app ID with no live address is looked up again at every call, so a
/// sidecar that just registered is found at once.
/// </summary>
public sealed class SqliteNameResolver : INameResolver
{
    private readonly string _connectionString;
    private readonly string _table;
    private readonly TimeSpan _updateInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<string> _registrations = [];
    private readonly CancellationTokenSource _stopping = new();
    private Task? _heartbeat;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (string[] Addresses, DateTimeOffset Until)> _answers = new(StringComparer.Ordinal);
    private bool _schemaReady;
    private int _disposed;

    /// <summary>How long the live addresses of an app ID are reused before the file is read again.</summary>
    public static TimeSpan AnswerLifetime { get; } = TimeSpan.FromSeconds(1);

    public SqliteNameResolver(string path, TimeSpan updateInterval, TimeSpan busyTimeout, string table, TimeProvider time, ILogger logger)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(table, "^[A-Za-z_][A-Za-z0-9_]*$"))
        {
            throw new ArgumentException($"invalid table name '{table}'", nameof(table));
        }
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            DefaultTimeout = (int)Math.Max(1, busyTimeout.TotalSeconds),
            Pooling = true,
        }.ToString();
        _table = table;
        _updateInterval = updateInterval;
        _time = time;
        _logger = logger;
        Path = path;
    }

    public string Path { get; }

    /// <summary>Builds the resolver from the Configuration's <c>nameResolution.configuration</c> map (daprd's field names).</summary>
    public static SqliteNameResolver FromConfiguration(IReadOnlyDictionary<string, string>? settings, string defaultPath, string workingDirectory, TimeProvider time, ILogger logger)
    {
        string? Get(string key) => settings?.FirstOrDefault(kv => string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)).Value;
        TimeSpan Duration(string key, TimeSpan fallback) => Get(key) is { Length: > 0 } raw
            ? (long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : GoDuration.Parse(raw))
            : fallback;
        var path = Get("connectionString") is { Length: > 0 } cs ? System.IO.Path.Combine(workingDirectory, cs.Replace("file:", "", StringComparison.Ordinal).Split('?')[0]) : defaultPath;
        return new SqliteNameResolver(path, Duration("updateInterval", TimeSpan.FromSeconds(5)), Duration("busyTimeout", TimeSpan.FromMilliseconds(800)),
            Get("tableName") is { Length: > 0 } table ? table : "hosts", time, logger);
    }

    public async Task RegisterAsync(string appId, string address, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        var id = Guid.NewGuid().ToString("N");
        await ExecuteAsync($"INSERT INTO {_table} (registration_id, address, app_id, last_update) VALUES ($id, $address, $app, $now)",
            cancellationToken, ("$id", id), ("$address", address), ("$app", appId), ("$now", Now()));
        lock (_registrations)
        {
            _registrations.Add(id);
        }
        _heartbeat ??= Task.Run(HeartbeatAsync, CancellationToken.None);
    }

    public async Task<string?> ResolveAsync(string appId, CancellationToken cancellationToken)
    {
        if (!_answers.TryGetValue(appId, out var answer) || answer.Until <= _time.GetUtcNow())
        {
            var addresses = await ReadAddressesAsync(appId, cancellationToken);
            answer = (addresses, _time.GetUtcNow() + AnswerLifetime);
            if (addresses.Length > 0)
            {
                _answers[appId] = answer;
            }
        }
        // Several replicas of one app ID: spread calls like daprd's resolvers do.
        return answer.Addresses.Length == 0 ? null : answer.Addresses[Random.Shared.Next(answer.Addresses.Length)];
    }

    private async Task<string[]> ReadAddressesAsync(string appId, CancellationToken cancellationToken)
    {
        await EnsureSchemaAsync(cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT address FROM {_table} WHERE app_id = $app AND last_update >= $cutoff";
        command.Parameters.AddWithValue("$app", appId);
        command.Parameters.AddWithValue("$cutoff", Now() - (long)Math.Ceiling((_updateInterval * 2 + TimeSpan.FromSeconds(1)).TotalSeconds));
        var addresses = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            addresses.Add(reader.GetString(0));
        }
        return [.. addresses];
    }

    private async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        if (_schemaReady)
        {
            return;
        }
        await ExecuteAsync("PRAGMA journal_mode=WAL", cancellationToken);
        await ExecuteAsync($"CREATE TABLE IF NOT EXISTS {_table} (registration_id TEXT PRIMARY KEY, address TEXT NOT NULL, app_id TEXT NOT NULL, last_update INTEGER NOT NULL)", cancellationToken);
        await ExecuteAsync($"CREATE INDEX IF NOT EXISTS {_table}_app_id ON {_table} (app_id)", cancellationToken);
        _schemaReady = true;
    }

    private async Task HeartbeatAsync()
    {
        using var timer = new PeriodicTimer(_updateInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    string[] ids;
                    lock (_registrations)
                    {
                        ids = [.. _registrations];
                    }
                    foreach (var id in ids)
                    {
                        await ExecuteAsync($"UPDATE {_table} SET last_update = $now WHERE registration_id = $id", _stopping.Token, ("$now", Now()), ("$id", id));
                    }
                    // Rows of sidecars that died without unregistering.
                    await ExecuteAsync($"DELETE FROM {_table} WHERE last_update < $cutoff", _stopping.Token, ("$cutoff", Now() - 3600));
                }
                catch (SqliteException e)
                {
                    _logger.LogWarning(e, "Name resolution heartbeat failed");
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private long Now() => _time.GetUtcNow().ToUnixTimeSeconds();

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private async Task ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        // The host leaves name resolution early in its shutdown; the DI container disposes again at the end.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }
        await _stopping.CancelAsync();
        if (_heartbeat is not null)
        {
            await _heartbeat;
        }
        string[] ids;
        lock (_registrations)
        {
            ids = [.. _registrations];
            _registrations.Clear();
        }
        foreach (var id in ids)
        {
            try
            {
                await ExecuteAsync($"DELETE FROM {_table} WHERE registration_id = $id", CancellationToken.None, ("$id", id));
            }
            catch (SqliteException e)
            {
                _logger.LogWarning(e, "Could not remove name resolution entry {Id}", id);
            }
        }
        _stopping.Dispose();
        // Pooled connections keep the file open; a stopped sidecar leaves it alone.
        SqliteConnection.ClearAllPools();
    }
}
