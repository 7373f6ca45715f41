using System.Globalization;
using Npgsql;
using Ovasabi.DevSidecar.Hosting;

namespace Ovasabi.DevSidecar.Components.Bindings;

/// <summary>
/// <c>bindings.postgresql</c> / <c>bindings.postgres</c>: runs the request's SQL (<c>exec</c>, <c>query</c>) with
/// its JSON <c>params</c> as parameters, or closes the pool (<c>close</c>).
/// </summary>
internal sealed class PostgresBinding : IOutputBinding
{
    public const string Exec = "exec";
    public const string Query = "query";
    public const string Close = "close";

    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeSpan _timeout;
    private readonly TimeProvider _time;
    private int _closed;

    public PostgresBinding(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        _time = context.Time;
        // Same connection string forms and metadata overrides as state.postgresql: both share daprd's pgx settings.
        var settings = PostgresConnectionString.Parse(metadata);
        var timeoutField = metadata.Get("timeout") is null && metadata.Get("timeoutInSeconds") is not null ? "timeoutInSeconds" : "timeout";
        _timeout = metadata.Duration(timeoutField, DefaultTimeout, plainUnit: TimeSpan.FromSeconds(1));
        if (_timeout < TimeSpan.FromSeconds(1))
        {
            throw metadata.Error(timeoutField, "must be at least 1s");
        }
        var maxConns = metadata.Int("maxConns", 0);
        if (maxConns < 0)
        {
            throw metadata.Error("maxConns", "must not be negative");
        }
        var maxIdle = metadata.Duration("connectionMaxIdleTime", TimeSpan.Zero);

        settings.Timeout = (int)Math.Min(Math.Ceiling(_timeout.TotalSeconds), 1024);
        // daprd bounds only connecting with the timeout, never a statement; the caller's deadline still cancels one.
        settings.CommandTimeout = 0;
        if (maxConns > 0)
        {
            settings.MaxPoolSize = maxConns;
        }
        if (maxIdle > TimeSpan.Zero)
        {
            settings.ConnectionIdleLifetime = (int)Math.Ceiling(maxIdle.TotalSeconds);
        }
        _dataSource = new NpgsqlDataSourceBuilder(settings.ConnectionString)
            .UseLoggerFactory(context.LoggerFactory)
            .Build();
    }

    public IReadOnlyList<string> Operations { get; } = [Exec, Query, Close];

    /// <summary>
    /// Opens one connection within <c>timeout</c>, as daprd pings the database at start. Failing to connect is a
    /// <see cref="BindingException"/>, not a configuration error, so <c>ignoreErrors</c> can skip it.
    /// </summary>
    public async Task InitAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_timeout);
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(limit.Token);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is OperationCanceledException ? $"no connection within {GoDuration.Format(_timeout)}" : ex.Message;
            throw new BindingException($"unable to connect to the DB: {reason}", ex);
        }
    }

    public async Task<BindingResponse> InvokeAsync(BindingRequest request, CancellationToken cancellationToken)
    {
        // Closing twice is fine, as in daprd.
        if (request.Operation == Close)
        {
            await DisposeAsync();
            return BindingResponse.Empty();
        }
        if (Volatile.Read(ref _closed) != 0)
        {
            throw new BindingException("component is closed");
        }
        if (request.Metadata.Count == 0)
        {
            throw new BindingException("metadata required");
        }
        if (!request.Metadata.TryGetValue("sql", out var sql) || sql.Length == 0)
        {
            throw new BindingException("required metadata not set: sql");
        }
        if (request.Operation is not (Exec or Query))
        {
            throw new BindingException($"invalid operation type: {request.Operation}. Expected {Exec}, {Query}, or {Close}");
        }
        var parameters = PostgresParameters.Parse(request.Metadata.GetValueOrDefault("params"));

        var startTime = _time.GetUtcNow().UtcDateTime;
        var started = _time.GetTimestamp();
        var metadata = new Dictionary<string, string>
        {
            ["operation"] = request.Operation,
            ["sql"] = sql,
            ["start-time"] = GoCompat.FormatTime(startTime),
        };
        byte[] data = [];
        try
        {
            await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(sql, connection);
            await PostgresParameters.BindAsync(command, parameters, cancellationToken);
            if (request.Operation == Exec)
            {
                var rows = await command.ExecuteNonQueryAsync(cancellationToken);
                // Npgsql says -1 for statements without a row count (DDL); pgx says 0.
                metadata["rows-affected"] = Math.Max(rows, 0).ToString(CultureInfo.InvariantCulture);
            }
            else
            {
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                data = await PostgresResultWriter.WriteAsync(reader, cancellationToken);
            }
        }
        catch (PostgresException ex)
        {
            // pgx's wording, which daprd passes on: "ERROR: message (SQLSTATE code)".
            throw new BindingException($"error executing query: {ex.Severity}: {ex.MessageText} (SQLSTATE {ex.SqlState})", ex);
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ObjectDisposedException)
        {
            throw new BindingException(Volatile.Read(ref _closed) != 0 ? "component is closed" : $"error executing query: {ex.Message}", ex);
        }
        var elapsed = _time.GetElapsedTime(started);
        metadata["end-time"] = GoCompat.FormatTime(startTime + elapsed);
        metadata["duration"] = GoDuration.Format(elapsed);
        return new BindingResponse(data, metadata);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            await _dataSource.DisposeAsync();
        }
    }
}
