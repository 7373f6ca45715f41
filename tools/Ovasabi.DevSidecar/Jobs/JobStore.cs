using Dapr.Client.Autogen.Grpc.v1;
using Google.Protobuf;
using Microsoft.Data.Sqlite;

namespace Ovasabi.DevSidecar.Jobs;

/// <summary>A job as the trigger loop claimed it: the definition, which tick is due, and how often it failed.</summary>
public sealed record ClaimedJob(string Name, Job Job, string Generation, DateTimeOffset Tick, DateTimeOffset? Expiry, long TicksDone, int Attempts);

/// <summary>
/// The scheduler's storage, standing in for Dapr's etcd: one SQLite file shared by every dev sidecar of the machine
/// (or of a test run), so jobs outlive sidecar and app restarts and each due tick is leased to one sidecar of the app
/// ID. Jobs are keyed by namespace and app ID, like the scheduler's <c>app||namespace||appId||name</c> keys.
/// </summary>
public sealed class JobStore
{
    private readonly string _connectionString;
    private bool _schemaReady;

    public JobStore(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 10, Pooling = true }.ToString();
        FilePath = path;
    }

    public string FilePath { get; }

    /// <summary>The scheduler's key prefix for an app: jobs of another app ID or namespace are invisible.</summary>
    public static string OwnerOf(string? @namespace, string appId) => $"app||{@namespace ?? "default"}||{appId}";

    /// <summary>Stores a job; false when the name is taken and <paramref name="overwrite"/> is off (the job is unchanged).</summary>
    public async Task<bool> AddAsync(string owner, Job job, JobPlan plan, bool overwrite, CancellationToken cancellationToken)
    {
        var verb = overwrite ? "INSERT OR REPLACE" : "INSERT OR IGNORE";
        var rows = await ExecuteAsync(
            $"""
             {verb} INTO jobs (owner, name, job, generation, tick_ms, due_ms, expiry_ms, ticks_done, attempts, lease_owner, lease_until_ms)
             VALUES ($owner, $name, $job, $generation, $tick, $tick, $expiry, 0, 0, NULL, NULL)
             """,
            cancellationToken,
            ("$owner", owner), ("$name", job.Name), ("$job", job.ToByteArray()), ("$generation", Guid.NewGuid().ToString("N")),
            ("$tick", Milliseconds(plan.FirstTick)), ("$expiry", plan.Expiry is { } expiry ? Milliseconds(expiry) : (object)DBNull.Value));
        return rows > 0;
    }

    public async Task<Job?> GetAsync(string owner, string name, CancellationToken cancellationToken)
    {
        var jobs = await ReadJobsAsync("SELECT job FROM jobs WHERE owner = $owner AND name = $name", cancellationToken, ("$owner", owner), ("$name", name));
        return jobs.Count > 0 ? jobs[0] : null;
    }

    /// <summary>The owner's jobs by name in byte order, as the scheduler lists its etcd keys.</summary>
    public Task<List<Job>> ListAsync(string owner, CancellationToken cancellationToken) =>
        ReadJobsAsync("SELECT job FROM jobs WHERE owner = $owner ORDER BY CAST(name AS BLOB)", cancellationToken, ("$owner", owner));

    public Task DeleteAsync(string owner, string name, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM jobs WHERE owner = $owner AND name = $name", cancellationToken, ("$owner", owner), ("$name", name));

    public Task DeleteByPrefixAsync(string owner, string prefix, CancellationToken cancellationToken) =>
        ExecuteAsync("DELETE FROM jobs WHERE owner = $owner AND substr(name, 1, length($prefix)) = $prefix", cancellationToken,
            ("$owner", owner), ("$prefix", prefix));

    /// <summary>
    /// Leases up to <paramref name="limit"/> due jobs to <paramref name="leaseOwner"/> until <paramref name="leaseUntil"/>;
    /// a job leased by another sidecar is skipped until its lease runs out (that sidecar died mid-delivery).
    /// </summary>
    public async Task<List<ClaimedJob>> ClaimDueAsync(string owner, string leaseOwner, DateTimeOffset now, DateTimeOffset leaseUntil, int limit,
        CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText =
            """
            UPDATE jobs SET lease_owner = $lease, lease_until_ms = $until
            WHERE owner = $owner AND name IN (
                SELECT name FROM jobs WHERE owner = $owner AND due_ms <= $now AND (lease_until_ms IS NULL OR lease_until_ms < $now)
                ORDER BY due_ms LIMIT $limit)
            RETURNING name, job, generation, tick_ms, expiry_ms, ticks_done, attempts
            """;
        Bind(command, ("$owner", owner), ("$lease", leaseOwner), ("$until", Milliseconds(leaseUntil)), ("$now", Milliseconds(now)), ("$limit", limit));
        var claimed = new List<ClaimedJob>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            claimed.Add(new ClaimedJob(reader.GetString(0), Job.Parser.ParseFrom((byte[])reader[1]), reader.GetString(2),
                Instant(reader.GetInt64(3)), reader.IsDBNull(4) ? null : Instant(reader.GetInt64(4)), reader.GetInt64(5), reader.GetInt32(6)));
        }
        return claimed;
    }

    /// <summary>When the owner's next unleased job is due, or null when it has none.</summary>
    public async Task<DateTimeOffset?> NextDueAsync(string owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT min(max(due_ms, coalesce(lease_until_ms + 1, 0))) FROM jobs WHERE owner = $owner";
        Bind(command, ("$owner", owner));
        return await command.ExecuteScalarAsync(cancellationToken) is long due ? Instant(due) : null;
    }

    /// <summary>Keeps a lease while the app still works on the trigger.</summary>
    public Task RenewAsync(string owner, ClaimedJob job, string leaseOwner, DateTimeOffset until, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE jobs SET lease_until_ms = $until WHERE owner = $owner AND name = $name AND generation = $generation AND lease_owner = $lease",
            cancellationToken, ("$owner", owner), ("$name", job.Name), ("$generation", job.Generation), ("$lease", leaseOwner), ("$until", Milliseconds(until)));

    /// <summary>
    /// Ends the claimed tick: moves on to <paramref name="nextTick"/>, or deletes the job when there is none. Ignored when
    /// the job was overwritten or deleted meanwhile.
    /// </summary>
    public Task FinishTickAsync(string owner, ClaimedJob job, DateTimeOffset? nextTick, CancellationToken cancellationToken) =>
        nextTick is { } next
            ? ExecuteAsync(
                """
                UPDATE jobs SET tick_ms = $next, due_ms = $next, ticks_done = ticks_done + 1, attempts = 0, lease_owner = NULL, lease_until_ms = NULL
                WHERE owner = $owner AND name = $name AND generation = $generation
                """,
                cancellationToken, ("$owner", owner), ("$name", job.Name), ("$generation", job.Generation), ("$next", Milliseconds(next)))
            : ExecuteAsync("DELETE FROM jobs WHERE owner = $owner AND name = $name AND generation = $generation",
                cancellationToken, ("$owner", owner), ("$name", job.Name), ("$generation", job.Generation));

    /// <summary>Delivers the claimed tick again at <paramref name="due"/> (failure policy).</summary>
    public Task RetryAsync(string owner, ClaimedJob job, DateTimeOffset due, CancellationToken cancellationToken) =>
        ExecuteAsync(
            """
            UPDATE jobs SET due_ms = $due, attempts = attempts + 1, lease_owner = NULL, lease_until_ms = NULL
            WHERE owner = $owner AND name = $name AND generation = $generation
            """,
            cancellationToken, ("$owner", owner), ("$name", job.Name), ("$generation", job.Generation), ("$due", Milliseconds(due)));

    /// <summary>Gives the lease back without counting anything (the app went away before the trigger could be delivered).</summary>
    public Task ReleaseAsync(string owner, ClaimedJob job, CancellationToken cancellationToken) =>
        ExecuteAsync("UPDATE jobs SET lease_owner = NULL, lease_until_ms = NULL WHERE owner = $owner AND name = $name AND generation = $generation",
            cancellationToken, ("$owner", owner), ("$name", job.Name), ("$generation", job.Generation));

    // Never early: an instant between two milliseconds is stored as the later one.
    private static long Milliseconds(DateTimeOffset instant) =>
        instant == DateTimeOffset.MaxValue ? long.MaxValue : (instant.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;

    private static DateTimeOffset Instant(long milliseconds) =>
        milliseconds == long.MaxValue ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private async Task<List<Job>> ReadJobsAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, parameters);
        var jobs = new List<Job>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            jobs.Add(Job.Parser.ParseFrom((byte[])reader[0]));
        }
        return jobs;
    }

    private async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        Bind(command, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void Bind(SqliteCommand command, params (string Name, object Value)[] parameters)
    {
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        if (!_schemaReady)
        {
            await using var command = connection.CreateCommand();
            // WAL lets the sidecars of several processes read while one writes.
            command.CommandText =
                """
                PRAGMA journal_mode = WAL;
                CREATE TABLE IF NOT EXISTS jobs (
                    owner TEXT NOT NULL,
                    name TEXT NOT NULL,
                    job BLOB NOT NULL,
                    generation TEXT NOT NULL,
                    tick_ms INTEGER NOT NULL,
                    due_ms INTEGER NOT NULL,
                    expiry_ms INTEGER,
                    ticks_done INTEGER NOT NULL,
                    attempts INTEGER NOT NULL,
                    lease_owner TEXT,
                    lease_until_ms INTEGER,
                    PRIMARY KEY (owner, name));
                CREATE INDEX IF NOT EXISTS jobs_due ON jobs (owner, due_ms);
                """;
            await command.ExecuteNonQueryAsync(cancellationToken);
            _schemaReady = true;
        }
        return connection;
    }
}
