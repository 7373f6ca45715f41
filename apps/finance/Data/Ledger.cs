using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Ovasabi.Finance.Domain;
using Ovasabi.Finance.Events;
using Ovasabi.Finance.Grpc;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Events;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Finance.Data;

/// <summary>Whether users may have money moved (the user service's answer); NotFound or FailedPrecondition if not.</summary>
public interface IActiveUsers
{
    Task EnsureActiveAsync(IEnumerable<Guid> userIds, CancellationToken cancellationToken);
}

/// <summary>
/// Runs money movements: each one posts balanced entries and updates the balances of its user accounts in one
/// PostgreSQL transaction, with the accounts locked in ascending ID order (so concurrent postings wait for each other
/// instead of deadlocking), the audit row and the outbox event in the same transaction, and the answer stored under the
/// idempotency key. After the commit the cached balances are marked stale (see <see cref="BalanceReader"/>). What a
/// movement may do is the domain's (<see cref="Movement"/>, <see cref="Book"/>); this class loads, locks and stores.
/// </summary>
/// <remarks>
/// The posting is written in SQL, in two batches and the commit, rather than through EF's change tracker: it is the
/// platform's hottest write, and EF needed five round trips (three under the locks) and most of the app's CPU for it.
/// Everything else about these tables (model, migrations, reads) stays EF's.
/// </remarks>
public sealed class Ledger(FinanceDbContext db, Currencies currencies, IActiveUsers users, BalanceReader balances, OutboxSignal outbox, TimeProvider time,
    ILogger<Ledger> logger)
{
    // Accounts are never deleted, so their IDs can be remembered for the process's life.
    private static readonly ConcurrentDictionary<(AccountKind Kind, Guid? UserId, string Currency), long> AccountIds = new();

    /// <summary>
    /// Answers a movement exactly once per idempotency key: a retry of the same request gets the first answer, a
    /// different request under a used key is FailedPrecondition. Users are checked before any lock is taken.
    /// </summary>
    public async Task<V1.Transaction> PostAsync(Movement movement, RequestEnvelope request, CancellationToken cancellationToken)
    {
        try
        {
            var target = movement.TargetId is { } targetId
                ? await Transactions().FirstOrDefaultAsync(t => t.Master.Uuid == targetId, cancellationToken) ?? throw new NotFoundException("transaction", targetId.ToString())
                : null;
            var plan = movement.Plan(currencies, target is null ? null : View(target));
            if (plan.UsersMustBeActive)
            {
                await users.EnsureActiveAsync(plan.Accounts, cancellationToken);
            }
            var accountIds = new List<long>();
            foreach (var user in plan.Accounts.Distinct())
            {
                accountIds.Add(await AccountIdAsync(AccountKind.User, user, plan.Currency.Code, cancellationToken));
            }
            var platform = new Dictionary<AccountKind, long>
            {
                [AccountKind.External] = await AccountIdAsync(AccountKind.External, null, plan.Currency.Code, cancellationToken),
                [AccountKind.Revenue] = await AccountIdAsync(AccountKind.Revenue, null, plan.Currency.Code, cancellationToken),
            };
            return await PostLockedAsync(movement, request, plan, target?.Id, accountIds.ToArray(), platform, cancellationToken);
        }
        // The key was used before: its answer wins over whatever this attempt met. That is the retry of a request whose
        // user was suspended since, or whose target moved on; or the same key used while this request waited for the
        // locks, when the other one committed first (this insert then hits the key's unique index) or left this one
        // nothing to move. A first use gets the refusal.
        catch (Exception e) when (e is ServiceException or PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            if (await ReplayAsync(request, cancellationToken) is { } earlier)
            {
                return earlier;
            }
            throw;
        }
    }

    /// <summary>
    /// The posting itself, in three round trips: (1) the stored answer if the key was used, the transaction's master
    /// row, and the accounts (and a target transaction) locked, with their balances and the sender's daily total; (2)
    /// every write; (3) the commit. The last two while the accounts are locked.
    /// </summary>
    private async Task<V1.Transaction> PostLockedAsync(Movement movement, RequestEnvelope request, Plan plan, long? targetId, long[] ids,
        Dictionary<AccountKind, long> platform, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            // Npgsql sends BEGIN with the first batch, not on its own.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            // As stored: a time kept in memory (e.g. in the stored answer) must equal the one read back.
            var now = ServiceDbContext.Microseconds(time.GetUtcNow());
            var master = new MasterRecord { Type = "transaction", Name = MovementRules.Name(movement.Kind), CreatedAt = now, UpdatedAt = now };
            var (earlier, masterId, locked, target) = await LockAsync(connection, transaction, request, master, ids, targetId, cancellationToken);
            if (earlier is not null)
            {
                return earlier.AnswerTo(request);
            }
            var totals = locked.ToDictionary(pair => pair.Key, pair => pair.Value.Sent);
            var sentToday = plan.DailyTotalOf is { } sender ? totals[sender].On(DailyLimit.Day(now)) : 0;
            var book = new Book(plan.Currency, locked.ToDictionary(pair => pair.Key, pair => new Balances(pair.Value.Available, pair.Value.Held)));
            var posted = movement.Post(book, target?.View, sentToday);

            var view = new TransactionView(master.Uuid, posted.Kind, TransactionState.Completed, plan.Currency.Code, posted.Amount, posted.UserId,
                posted.CounterpartyUserId, target?.View.Id, request.IdempotencyKey, posted.Description, now);
            var answer = FinanceMapping.Transaction(view);
            var sent = DailyLimit.Changes(plan, posted, target?.View, now, totals).ToDictionary(change => change.User, change => change.Total);
            // Each account as the posting leaves it; a changed balance takes the next version.
            var after = locked.Values.Select(account => book.Changed(account.UserId)
                    ? account with { Available = book.After[account.UserId].Available, Held = book.After[account.UserId].Held, Version = account.Version + 1 }
                    : account)
                .Select(account => account with { Sent = sent.GetValueOrDefault(account.UserId, account.Sent) })
                .Where(account => account != locked[account.UserId])
                .ToList();
            var changed = after.Where(account => account.Version != locked[account.UserId].Version).ToList();

            await using var writes = new NpgsqlBatch(connection, transaction);
            writes.BatchCommands.Add(InsertPosting(masterId, posted, plan.Currency, target, request, answer.ToByteArray(),
                book.Entries.Select(entry => (entry.Party.UserId is { } user ? locked[user].Id : platform[entry.Party.Kind], entry.Party.Bucket, entry.Amount)),
                Snapshot(plan.Currency, book.Before, target?.View.Id, target?.View.State), Snapshot(plan.Currency, book.After, target?.View.Id, posted.TargetBecomes ?? target?.View.State),
                now));
            foreach (var account in after)
            {
                // The balance's time moves with its version only (a cached balance is known by its version).
                writes.BatchCommands.Add(UpdateAccount(account, account.Version != locked[account.UserId].Version ? now : null));
            }
            if (posted.TargetBecomes is { } state)
            {
                writes.BatchCommands.Add(new NpgsqlBatchCommand("UPDATE service_finance_transaction SET status = $1 WHERE id = $2")
                {
                    Parameters = { new() { Value = (int)state }, new() { Value = target!.Id } },
                });
            }
            writes.BatchCommands.Add(SharedRows.InsertEvent(FinanceTopics.For(posted.Kind), FinanceEvents.MovementCompleted(view, now), masterId, now));
            foreach (var user in book.FellBelowThreshold())
            {
                writes.BatchCommands.Add(SharedRows.InsertEvent(FinanceTopics.BalanceLow,
                    FinanceEvents.BalanceLow(user, plan.Currency, book.After[user].Available, now), locked[user].MasterId, now));
            }
            await writes.ExecuteNonQueryAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            outbox.Notify();

            await balances.MarkStaleAsync(changed.Select(account => (account.UserId, plan.Currency.Code, account.Version)).ToList(), cancellationToken);
            return answer;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>A user account as locked for a posting.</summary>
    private sealed record LockedAccount(long Id, long MasterId, Guid UserId, long Available, long Held, long Version, DailyTotal Sent);

    /// <summary>The transaction a release, capture or reversal acts on, as locked.</summary>
    private sealed record LockedTarget(long Id, TransactionView View);

    /// <summary>Round trip (1): the key's earlier answer (then nothing else matters), the master row's key, and the locks.</summary>
    private static async Task<(StoredAnswer? Earlier, long MasterId, Dictionary<Guid, LockedAccount> Accounts, LockedTarget? Target)> LockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, RequestEnvelope request, MasterRecord master, long[] ids, long? targetId,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("SELECT request_hash, result FROM service_finance_transaction WHERE idempotency_scope = $1 AND idempotency_key = $2")
                {
                    Parameters = { new() { Value = request.Actor }, new() { Value = request.IdempotencyKey } },
                },
                SharedRows.InsertMaster(master),
                new("""
                    SELECT id, master_id, user_id, available, held, version, sent_on, sent_total
                    FROM service_finance_account WHERE id = ANY($1) ORDER BY id FOR UPDATE
                    """)
                {
                    Parameters = { new() { Value = ids } },
                },
            },
        };
        if (targetId is { } id)
        {
            batch.BatchCommands.Add(new("""
                SELECT t.id, m.uuid, t.type, t.status, t.currency, t.amount, t.user_id, t.counterparty_user_id, t.idempotency_key, t.description, t.created_at
                FROM service_finance_transaction t JOIN master m ON m.id = t.master_id
                WHERE t.id = $1 FOR UPDATE OF t
                """)
            {
                Parameters = { new() { Value = id } },
            });
        }
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var earlier = await reader.ReadAsync(cancellationToken) ? new StoredAnswer(reader.GetFieldValue<byte[]>(0), reader.GetFieldValue<byte[]>(1)) : null;
        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var masterId = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken);
        var accounts = new Dictionary<Guid, LockedAccount>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var account = new LockedAccount(reader.GetInt64(0), reader.GetInt64(1), reader.GetGuid(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5),
                new DailyTotal(reader.IsDBNull(6) ? null : reader.GetFieldValue<DateOnly>(6), reader.GetInt64(7)));
            accounts[account.UserId] = account;
        }
        LockedTarget? target = null;
        if (targetId is not null && await reader.NextResultAsync(cancellationToken) && await reader.ReadAsync(cancellationToken))
        {
            target = new LockedTarget(reader.GetInt64(0), new TransactionView(reader.GetGuid(1), (TransactionKind)reader.GetInt32(2), (TransactionState)reader.GetInt32(3),
                reader.GetString(4), reader.GetInt64(5), reader.GetGuid(6), reader.IsDBNull(7) ? null : reader.GetGuid(7), null, reader.GetString(8), reader.GetString(9),
                reader.GetFieldValue<DateTimeOffset>(10)));
        }
        return (earlier, masterId, accounts, target);
    }

    /// <summary>The transaction row, its entries and its audit row, in one statement (the entries and the audit take the key it gets).</summary>
    private static NpgsqlBatchCommand InsertPosting(long masterId, Posted posted, Currency currency, LockedTarget? target, RequestEnvelope request, byte[] answer,
        IEnumerable<(long Account, Bucket Bucket, long Amount)> entries, string before, string after, DateTimeOffset now)
    {
        var lines = entries.ToList();
        return new NpgsqlBatchCommand("""
            WITH posting AS (
                INSERT INTO service_finance_transaction (master_id, type, status, user_id, counterparty_user_id, currency, amount, related_transaction_id,
                    idempotency_scope, idempotency_key, request_hash, result, description, actor, created_at, metadata)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $9, $14, '{}')
                RETURNING id
            ), entries AS (
                INSERT INTO service_finance_entry (transaction_id, account_id, bucket, amount, currency, created_at)
                SELECT posting.id, line.account_id, line.bucket, line.amount, $6, $14
                FROM posting, unnest($15::bigint[], $16::integer[], $17::bigint[]) AS line(account_id, bucket, amount)
            )
            INSERT INTO service_finance_audit (transaction_id, actor, action, before, after, request_id, trace_id, occurred_at)
            SELECT posting.id, $9, $18, $19, $20, $21, $22, $14 FROM posting
            """)
        {
            Parameters =
            {
                new() { Value = masterId },
                new() { Value = (int)posted.Kind },
                new() { Value = (int)TransactionState.Completed },
                new() { Value = posted.UserId },
                new() { Value = (object?)posted.CounterpartyUserId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
                new() { Value = currency.Code },
                new() { Value = posted.Amount },
                new() { Value = (object?)target?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Bigint },
                new() { Value = request.Actor },
                new() { Value = request.IdempotencyKey },
                new() { Value = request.Fingerprint },
                new() { Value = answer },
                new() { Value = posted.Description },
                new() { Value = now },
                new() { Value = lines.Select(line => line.Account).ToArray() },
                new() { Value = lines.Select(line => (int)line.Bucket).ToArray() },
                new() { Value = lines.Select(line => line.Amount).ToArray() },
                new() { Value = MovementRules.Name(posted.Kind) },
                new() { Value = before, NpgsqlDbType = NpgsqlDbType.Jsonb },
                new() { Value = after, NpgsqlDbType = NpgsqlDbType.Jsonb },
                new() { Value = (object?)request.RequestId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Varchar },
                new() { Value = (object?)Activity.Current?.TraceId.ToHexString() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Varchar },
            },
        };
    }

    /// <summary>An account's new balances, version and daily total; <paramref name="balanceChangedAt"/> when its balances changed.</summary>
    private static NpgsqlBatchCommand UpdateAccount(LockedAccount account, DateTimeOffset? balanceChangedAt) => new("""
        UPDATE service_finance_account
        SET available = $1, held = $2, version = $3, sent_on = $4, sent_total = $5, updated_at = coalesce($6, updated_at)
        WHERE id = $7
        """)
    {
        Parameters =
        {
            new() { Value = account.Available },
            new() { Value = account.Held },
            new() { Value = account.Version },
            new() { Value = (object?)account.Sent.Day ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Date },
            new() { Value = account.Sent.Amount },
            new() { Value = (object?)balanceChangedAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz },
            new() { Value = account.Id },
        },
    };

    /// <summary>A transaction as callers see it.</summary>
    public static TransactionView View(LedgerTransaction record) => new(record.Master.Uuid, record.Type, record.Status, record.Currency, record.Amount,
        record.UserId, record.CounterpartyUserId, record.Related?.Master.Uuid, record.IdempotencyKey, record.Description, record.CreatedAt);

    /// <summary>One transaction by ID, or null.</summary>
    public async Task<TransactionView?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        await Transactions().Include(t => t.Related!.Master).FirstOrDefaultAsync(t => t.Master.Uuid == id, cancellationToken) is { } record ? View(record) : null;

    private IQueryable<LedgerTransaction> Transactions() => db.Transactions.AsNoTracking().Include(t => t.Master);

    private sealed record StoredAnswer(byte[] RequestHash, byte[] Result)
    {
        /// <summary>The first answer, for a retry of the same request; FailedPrecondition for another one under the key.</summary>
        public V1.Transaction AnswerTo(RequestEnvelope request)
        {
            Idempotency.EnsureSameRequest(RequestHash, request.Fingerprint, request.IdempotencyKey);
            return V1.Transaction.Parser.ParseFrom(Result);
        }
    }

    // Compiled once: every posting asks it first, and a compiled query skips building and looking up the LINQ tree.
    private static readonly Func<FinanceDbContext, string, string, CancellationToken, Task<StoredAnswer?>> StoredAnswerOf =
        EF.CompileAsyncQuery((FinanceDbContext db, string scope, string key, CancellationToken _) =>
            db.Transactions.AsNoTracking().Where(t => t.IdempotencyScope == scope && t.IdempotencyKey == key)
                .Select(t => new StoredAnswer(t.RequestHash, t.Result)).FirstOrDefault());

    /// <summary>The stored answer to an earlier use of the key, or null when it is unused.</summary>
    private async Task<V1.Transaction?> ReplayAsync(RequestEnvelope request, CancellationToken cancellationToken)
    {
        var earlier = await StoredAnswerOf(db, request.Actor, request.IdempotencyKey, cancellationToken);
        return earlier?.AnswerTo(request);
    }

    /// <summary>The account's ID, creating the account (and its master row) the first time it is needed.</summary>
    private async Task<long> AccountIdAsync(AccountKind kind, Guid? userId, string currency, CancellationToken cancellationToken)
    {
        var cacheKey = (kind, userId, currency);
        if (AccountIds.TryGetValue(cacheKey, out var id))
        {
            return id;
        }
        var existing = await db.Accounts.AsNoTracking().Where(a => a.Kind == kind && a.UserId == userId && a.Currency == currency)
            .Select(a => (long?)a.Id).FirstOrDefaultAsync(cancellationToken);
        if (existing is null)
        {
            var account = new Account
            {
                Kind = kind,
                UserId = userId,
                Currency = currency,
                UpdatedAt = time.GetUtcNow(),
                Master = new MasterRecord { Type = "account", Name = $"{currency}/{userId?.ToString() ?? kind.ToString().ToLowerInvariant()}" },
            };
            db.Accounts.Add(account);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                existing = account.Id;
            }
            catch (DbUpdateException e) when (e.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                // A concurrent call created it first; its own insert (and master row) was rolled back.
                logger.LogDebug("Account {Name} was created concurrently", account.Master.Name);
                existing = await db.Accounts.AsNoTracking().Where(a => a.Kind == kind && a.UserId == userId && a.Currency == currency)
                    .Select(a => a.Id).FirstAsync(cancellationToken);
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
        AccountIds[cacheKey] = existing.Value;
        return existing.Value;
    }

    /// <summary>The audit's view of a posting: the balances and the status it touched.</summary>
    private static string Snapshot(Currency currency, IReadOnlyDictionary<Guid, Balances> accounts, Guid? target, TransactionState? status) => JsonSerializer.Serialize(new
    {
        accounts = accounts.Select(a => new { user_id = a.Key, currency = currency.Code, available = a.Value.Available, held = a.Value.Held }),
        transactions = target is { } id ? new[] { new { transaction_id = id, status = status.ToString() } } : [],
    });
}
