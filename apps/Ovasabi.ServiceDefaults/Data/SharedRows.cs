using Google.Protobuf;
using Npgsql;
using NpgsqlTypes;

namespace Ovasabi.ServiceDefaults.Data;

/// <summary>
/// The shared tables' rows as SQL statements, for a write that sends its statements itself in a few batches instead of
/// saving through EF (finance's posting): the same columns and values <see cref="ServiceDbContext"/> writes.
/// </summary>
public static class SharedRows
{
    /// <summary>Inserts <paramref name="master"/> (its times as given); the statement returns the row's key.</summary>
    public static NpgsqlBatchCommand InsertMaster(MasterRecord master) => new("""
        INSERT INTO master (uuid, type, name, description, version, is_active, created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING id
        """)
    {
        Parameters =
        {
            new() { Value = master.Uuid },
            new() { Value = master.Type },
            new() { Value = master.Name },
            new() { Value = (object?)master.Description ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text },
            new() { Value = master.Version },
            new() { Value = master.IsActive },
            new() { Value = master.CreatedAt },
            new() { Value = master.UpdatedAt },
        },
    };

    /// <summary>
    /// Records an event in the outbox, to run in the transaction of the change it describes; the dispatcher publishes it
    /// (wake it with <see cref="Events.OutboxSignal.Notify"/> after the commit).
    /// </summary>
    public static NpgsqlBatchCommand InsertEvent(string topic, IMessage payload, long? masterId, DateTimeOffset occurredAt) => new("""
        INSERT INTO service_event (id, master_id, event_type, payload, occurred_at, attempts)
        VALUES ($1, $2, $3, $4, $5, 0)
        """)
    {
        Parameters =
        {
            new() { Value = Guid.CreateVersion7() },
            new() { Value = (object?)masterId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint },
            new() { Value = topic },
            new() { Value = JsonFormatter.Default.Format(payload), NpgsqlDbType = NpgsqlDbType.Jsonb },
            new() { Value = ServiceDbContext.Microseconds(occurredAt) },
        },
    };
}
