using System.Text.Json;
using Npgsql;

namespace Ovasabi.Demo;

/// <summary>The outbox rows of one service that mention one of <paramref name="Ids"/> (users, sessions, transactions).</summary>
internal sealed record EventSource(string Service, string Database, IReadOnlyList<string> Ids);

internal sealed record PublishedEvent(string Service, string Topic, Guid Id, DateTimeOffset OccurredAt, TimeSpan PublishDelay, string Payload);

internal sealed record AccountChange(string UserId, long Before, long After);

internal sealed record AuditRow(string Actor, string Action, IReadOnlyList<AccountChange> Accounts);

/// <summary>
/// What the scenario left in the services' databases, read straight from PostgreSQL. Events come from each service's
/// outbox (<c>service_event</c>) rather than the Redis streams: a row's <c>published_at</c> is stamped only after the
/// sidecar accepted the publish and its ID is the CloudEvent ID, so it shows what went out and also what has not yet.
/// </summary>
internal sealed class PlatformRecords(DemoOptions options)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Waits until each source has at least one row per ID and every row is published (the dispatchers run
    /// asynchronously); the rows in the order they occurred.
    /// </summary>
    public async Task<IReadOnlyList<PublishedEvent>> PublishedEventsAsync(IReadOnlyList<EventSource> sources, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + options.EventTimeout;
        while (true)
        {
            var rows = new List<(PublishedEvent Event, bool Published)>();
            foreach (var source in sources)
            {
                rows.AddRange(await EventsAsync(source, cancellationToken));
            }
            var missing = sources.Where(s => rows.Count(r => r.Event.Service == s.Service) < s.Ids.Count).Select(s => s.Service).ToList();
            var pending = rows.Where(r => !r.Published).Select(r => $"{r.Event.Service} {r.Event.Topic} {r.Event.Id}").ToList();
            if (missing.Count == 0 && pending.Count == 0)
            {
                return rows.Select(r => r.Event).OrderBy(e => e.OccurredAt).ToList();
            }
            if (DateTimeOffset.UtcNow > deadline)
            {
                throw new DemoCheckException($"after {options.EventTimeout.TotalSeconds:0} s, " + string.Join("; ", [
                    .. missing.Select(s => $"{s}: fewer events than expected"),
                    .. pending.Select(p => $"not published yet: {p}"),
                ]));
            }
            await Task.Delay(Poll, cancellationToken);
        }
    }

    private static async Task<List<(PublishedEvent, bool)>> EventsAsync(EventSource source, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(source.Database);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT id, event_type, occurred_at, published_at, payload::text FROM service_event WHERE payload::text LIKE ANY(@patterns)", connection);
        command.Parameters.AddWithValue("patterns", source.Ids.Select(id => $"%\"{id}\"%").ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<(PublishedEvent, bool)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var occurred = reader.GetFieldValue<DateTimeOffset>(2);
            var published = reader.IsDBNull(3) ? (DateTimeOffset?)null : reader.GetFieldValue<DateTimeOffset>(3);
            rows.Add((new PublishedEvent(source.Service, reader.GetString(1), reader.GetGuid(0), occurred,
                (published ?? occurred) - occurred, reader.GetString(4)), published is not null));
        }
        return rows;
    }

    /// <summary>The finance audit rows of the given transactions, oldest first, with the available balances they changed.</summary>
    public async Task<IReadOnlyList<AuditRow>> AuditAsync(IReadOnlyList<string> transactionIds, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(options.FinanceDatabase);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT a.actor, a.action, a.before::text, a.after::text FROM service_finance_audit a " +
            "JOIN service_finance_transaction t ON t.id = a.transaction_id JOIN master m ON m.id = t.master_id " +
            "WHERE m.uuid = ANY(@ids) ORDER BY a.id", connection);
        command.Parameters.AddWithValue("ids", transactionIds.Select(Guid.Parse).ToArray());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<AuditRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var before = Available(reader.GetString(2));
            var after = Available(reader.GetString(3));
            rows.Add(new AuditRow(reader.GetString(0), reader.GetString(1),
                after.Select(a => new AccountChange(a.Key, before.GetValueOrDefault(a.Key), a.Value)).ToList()));
        }
        return rows;
    }

    /// <summary>The available balance per user of an audit snapshot (<c>{"accounts": [{"user_id", "available", ...}]}</c>).</summary>
    private static Dictionary<string, long> Available(string snapshot)
    {
        using var document = JsonDocument.Parse(snapshot);
        return document.RootElement.GetProperty("accounts").EnumerateArray()
            .ToDictionary(a => a.GetProperty("user_id").GetString() ?? "", a => a.GetProperty("available").GetInt64());
    }
}
