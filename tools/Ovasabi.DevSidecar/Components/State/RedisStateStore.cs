using System.Globalization;
using StackExchange.Redis;

namespace Ovasabi.DevSidecar.Components.State;

/// <summary>
/// <c>state.redis</c> v1 with daprd's storage layout, so data moves freely between this sidecar and daprd:
/// each key is a hash with <c>data</c> (the value bytes) and <c>version</c> (the etag, an integer starting at 1).
/// A key saved with first-write concurrency also gets daprd's marker field <c>first-write</c>; from then on a save
/// without etag is refused. A key holding a plain string (an older layout) is read with GET, without etag, and a
/// save replaces it with a hash.
/// </summary>
public sealed class RedisStateStore : IStateStore
{

    // The error both scripts raise for a failed version check (Redis may prefix it with ERR); anything else
    // from Redis is a plain store error.
    private const string ConflictError = "ETAG_CONFLICT";

    // KEYS[1] key; ARGV[1] expected version ('0' = none given); ARGV[2] value; ARGV[3] '1' marks first-write;
    // ARGV[4] TTL seconds ('' leaves the expiry alone). Check, write and expiry run as one atomic step.
    private const string SetScript = """
        local key = KEYS[1]
        local kind = redis.call('TYPE', key)['ok']
        if kind ~= 'hash' and kind ~= 'none' then
          redis.call('DEL', key)
        end
        local version = redis.call('HGET', key, 'version')
        local guarded = redis.call('HEXISTS', key, 'first-write') == 1
        if version and version ~= '' and version ~= ARGV[1] and (ARGV[1] ~= '0' or guarded) then
          return redis.error_reply('ETAG_CONFLICT version check failed')
        end
        redis.call('HSET', key, 'data', ARGV[2])
        if ARGV[3] == '1' then
          redis.call('HSET', key, 'first-write', '0')
        end
        local written = redis.call('HINCRBY', key, 'version', 1)
        if ARGV[4] ~= '' then
          local ttl = tonumber(ARGV[4])
          if ttl > 0 then
            redis.call('EXPIRE', key, ttl)
          else
            redis.call('PERSIST', key)
          end
        end
        return written
        """;

    // KEYS[1] key; ARGV[1] expected version ('0' = none given). A missing key or a non-hash value always goes.
    private const string DeleteScript = """
        local key = KEYS[1]
        if ARGV[1] ~= '0' and redis.call('TYPE', key)['ok'] == 'hash' then
          local version = redis.call('HGET', key, 'version')
          if version and version ~= '' and version ~= ARGV[1] then
            return redis.error_reply('ETAG_CONFLICT version check failed')
          end
        end
        return redis.call('DEL', key)
        """;

    private static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    private readonly RedisConnection _redis;
    private readonly int? _defaultTtl;
    private readonly string _name;
    private ConnectionMultiplexer? _connection;

    // The context is part of every component's constructor; this store needs nothing from it.
    public RedisStateStore(ComponentDefinition definition, ComponentContext context)
    {
        var metadata = definition.Metadata;
        _name = definition.Name;
        _redis = RedisConnection.Parse(metadata);
        _defaultTtl = metadata.Get("ttlInSeconds") is null ? null : metadata.Int("ttlInSeconds", 0);
    }

    public IReadOnlyCollection<string> Features { get; } = [StateFeatures.ETag, StateFeatures.Transactional, StateFeatures.Ttl];

    private IDatabase Database =>
        _connection?.GetDatabase(_redis.Database) ?? throw new InvalidOperationException($"state store '{_name}' is not initialised");

    public async Task InitAsync(CancellationToken cancellationToken)
    {
        var connecting = ConnectionMultiplexer.ConnectAsync(_redis.ToOptions(abortOnConnectFail: true));
        try
        {
            _connection = await connecting.WaitAsync(cancellationToken);
            await _connection.GetDatabase(_redis.Database).PingAsync().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The connect attempt may still finish after we gave up on it; do not leak that connection.
            _ = connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            throw;
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            throw new StateStoreException($"redis store: error connecting to redis at {_redis}: {e.Message}", e);
        }
    }

    public async Task<StateEntry?> GetAsync(string key, CancellationToken cancellationToken)
    {
        var database = Database;
        try
        {
            HashEntry[] fields;
            try
            {
                fields = await database.HashGetAllAsync(key).WaitAsync(cancellationToken);
            }
            catch (RedisServerException e) when (e.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal))
            {
                var legacy = await database.StringGetAsync(key).WaitAsync(cancellationToken);
                return legacy.IsNull ? null : new StateEntry((byte[])legacy!, null, NoMetadata);
            }
            if (fields.Length == 0)
            {
                return null;
            }
            var data = RedisValue.Null;
            var version = RedisValue.Null;
            foreach (var field in fields)
            {
                if (field.Name == "data")
                {
                    data = field.Value;
                }
                else if (field.Name == "version")
                {
                    version = field.Value;
                }
            }
            if (data.IsNull || version.IsNull)
            {
                throw new StateStoreException($"fail to get {key}: required hash field 'data' or 'version' was not found");
            }
            return new StateEntry((byte[])data!, version.ToString(), NoMetadata);
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            throw new StateStoreException($"fail to get {key}: {e.Message}", e);
        }
    }

    public async Task SetAsync(StateSetRequest request, CancellationToken cancellationToken)
    {
        var command = PrepareSet(request, markFirstWrite: request.Concurrency == StateConcurrency.FirstWrite);
        try
        {
            await Database.ScriptEvaluateAsync(SetScript, [request.Key], command).WaitAsync(cancellationToken);
        }
        catch (RedisServerException e) when (IsConflict(e))
        {
            // daprd reports a failed check as a mismatch only when the caller sent an etag; a first-write key
            // saved without one is a plain error.
            throw request.ETag is null
                ? new StateStoreException($"failed to set key {request.Key}: the key was saved with first-write concurrency and needs an etag")
                : new ETagMismatchException();
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            throw new StateStoreException($"failed to set key {request.Key}: {e.Message}", e);
        }
    }

    public async Task DeleteAsync(StateDeleteRequest request, CancellationToken cancellationToken)
    {
        try
        {
            await Database.ScriptEvaluateAsync(DeleteScript, [request.Key], PrepareDelete(request)).WaitAsync(cancellationToken);
        }
        catch (RedisServerException e) when (IsConflict(e))
        {
            throw new ETagMismatchException();
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            throw new StateStoreException($"failed to delete key {request.Key}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs the operations as one Redis <c>MULTI</c>/<c>EXEC</c> block, like daprd. Etags and TTLs are checked
    /// first, so a malformed one fails the call before anything is written. Inside the block each operation is the
    /// same script as a single save or delete, and Redis has <b>no rollback</b>: an operation whose etag check fails
    /// changes nothing, every other operation is still applied, and the call then throws a
    /// <see cref="StateStoreException"/> naming the failed operations (daprd answers Internal).
    /// Differences from daprd: an upsert's TTL is applied inside its script, so a failed upsert leaves the key's
    /// expiry alone (daprd queues EXPIRE/PERSIST separately and applies them anyway); like daprd, upserts in a
    /// transaction never set the first-write marker.
    /// </summary>
    public async Task ExecuteTransactionAsync(IReadOnlyList<StateOperation> operations, CancellationToken cancellationToken)
    {
        var prepared = operations.Select(operation => operation switch
        {
            StateUpsert upsert => (Script: SetScript, Arguments: PrepareSet(upsert.Request, markFirstWrite: false)),
            StateDelete delete => (Script: DeleteScript, Arguments: PrepareDelete(delete.Request)),
            _ => throw new StateStoreException($"operation {operation.GetType().Name} is not supported"),
        }).ToList();

        var transaction = Database.CreateTransaction();
        // NoScriptCache sends each script in full: a queued EVALSHA could not recover from NOSCRIPT after EXEC.
        var results = prepared
            .Select((command, i) => transaction.ScriptEvaluateAsync(command.Script, [operations[i].Key], command.Arguments, CommandFlags.NoScriptCache))
            .ToList();
        bool executed;
        try
        {
            executed = await transaction.ExecuteAsync().WaitAsync(cancellationToken);
        }
        catch (Exception e) when (IsRedisFailure(e) || e is OperationCanceledException)
        {
            // The queued operations end with the block; observe them so their faults are not reported as unobserved.
            _ = Task.WhenAll(results).ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            if (e is OperationCanceledException)
            {
                throw;
            }
            throw new StateStoreException($"transaction failed: {e.Message}", e);
        }
        if (!executed)
        {
            throw new StateStoreException("transaction failed: Redis discarded the MULTI block");
        }

        var failures = new List<string>();
        for (var i = 0; i < results.Count; i++)
        {
            try
            {
                await results[i];
            }
            catch (Exception e) when (IsRedisFailure(e))
            {
                var reason = IsConflict(e) ? "etag mismatch" : e.Message;
                failures.Add($"operation {i} (key {operations[i].Key}): {reason}");
            }
        }
        if (failures.Count > 0)
        {
            throw new StateStoreException(
                $"transaction partially applied (Redis has no rollback; the other operations were written): {string.Join("; ", failures)}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }

    private RedisValue[] PrepareSet(StateSetRequest request, bool markFirstWrite)
    {
        var expected = "0";
        // As in daprd, last-write concurrency ignores the etag; otherwise it must be an integer.
        if (request.ETag is { } etag && request.Concurrency != StateConcurrency.LastWrite)
        {
            if (!long.TryParse(etag, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var version))
            {
                throw new ETagInvalidException();
            }
            expected = version.ToString(CultureInfo.InvariantCulture);
        }
        var ttl = StateTtl.Parse(request.Metadata, rejectBelowMinusOne: false) ?? _defaultTtl;
        return
        [
            expected,
            request.Value,
            markFirstWrite ? "1" : "0",
            ttl?.ToString(CultureInfo.InvariantCulture) ?? "",
        ];
    }

    // daprd compares a delete's etag as text without parsing it, so a malformed etag is simply a mismatch.
    private static RedisValue[] PrepareDelete(StateDeleteRequest request) => [request.ETag ?? "0"];

    private static bool IsRedisFailure(Exception e) => e is RedisException or RedisTimeoutException;

    private static bool IsConflict(Exception e) => e.Message.Contains(ConflictError, StringComparison.Ordinal);
}
