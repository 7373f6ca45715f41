using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.Finance.Domain;
using Ovasabi.Finance.Events;
using Ovasabi.Finance.Grpc;
using Ovasabi.ServiceDefaults.Data;
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
public sealed class Ledger(FinanceDbContext db, Currencies currencies, IActiveUsers users, BalanceReader balances, TimeProvider time, ILogger<Ledger> logger)
{
    // Accounts are never deleted, so their IDs can be remembered for the process's life.
    private static readonly ConcurrentDictionary<(AccountKind Kind, Guid? UserId, string Currency), long> AccountIds = new();

    /// <summary>
    /// Answers a movement exactly once per idempotency key: a retry of the same request gets the first answer, a
    /// different request under a used key is FailedPrecondition. Users are checked before any lock is taken.
    /// </summary>
    public async Task<V1.Transaction> PostAsync(Movement movement, RequestEnvelope request, CancellationToken cancellationToken)
    {
        if (await ReplayAsync(request, cancellationToken) is { } earlier)
        {
            return earlier;
        }
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
        try
        {
            return await PostLockedAsync(movement, request, plan, target?.Id, accountIds.ToArray(), platform, cancellationToken);
        }
        // The same key was used while this request waited for the locks: the other one committed first (this insert
        // then hits the key's unique index), or its posting left this one nothing to move. Either way, its answer wins.
        catch (Exception e) when (e is ServiceException or DbUpdateException { InnerException: PostgresException { SqlState: PostgresErrorCodes.UniqueViolation } })
        {
            db.ChangeTracker.Clear();
            if (await ReplayAsync(request, cancellationToken) is { } raced)
            {
                return raced;
            }
            throw;
        }
    }

    /// <summary>
    /// The posting itself. The transaction's master row goes first, before any lock (its key comes from the insert);
    /// then three round trips while the accounts are locked: the lock (which also reads the balances and the sender's
    /// daily total), one batch with every write (the other keys are reserved in blocks), the commit.
    /// </summary>
    private async Task<V1.Transaction> PostLockedAsync(Movement movement, RequestEnvelope request, Plan plan, long? targetId, long[] ids,
        Dictionary<AccountKind, long> platform, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var master = new MasterRecord { Type = "transaction", Name = MovementRules.Name(movement.Kind) };
        await db.InsertMasterAsync(master, cancellationToken);
        var locked = await db.Accounts.FromSql($"SELECT * FROM service_finance_account WHERE id = ANY({ids}) ORDER BY id FOR UPDATE")
            .ToDictionaryAsync(a => a.UserId!.Value, cancellationToken);
        var lockedTarget = targetId is null ? null
            : await db.Transactions.FromSql($"SELECT * FROM service_finance_transaction WHERE id = {targetId} FOR UPDATE").Include(t => t.Master).SingleAsync(cancellationToken);
        var targetView = lockedTarget is null ? null : View(lockedTarget);
        // As stored: a time kept in memory (e.g. in the stored answer) must equal the one read back.
        var now = ServiceDbContext.Microseconds(time.GetUtcNow());
        var totals = locked.ToDictionary(pair => pair.Key, pair => pair.Value.Sent);
        var sentToday = plan.DailyTotalOf is { } sender ? totals[sender].On(DailyLimit.Day(now)) : 0;

        var book = new Book(plan.Currency, locked.ToDictionary(pair => pair.Key, pair => new Balances(pair.Value.Available, pair.Value.Held)));
        var posted = movement.Post(book, targetView, sentToday);
        var targetBefore = lockedTarget?.Status;
        if (posted.TargetBecomes is { } state)
        {
            lockedTarget!.Status = state;
        }
        var record = new LedgerTransaction
        {
            Master = master,
            Type = posted.Kind,
            Status = TransactionState.Completed,
            UserId = posted.UserId,
            CounterpartyUserId = posted.CounterpartyUserId,
            Currency = plan.Currency.Code,
            Amount = posted.Amount,
            Related = lockedTarget,
            RelatedTransactionId = lockedTarget?.Id,
            IdempotencyScope = request.Actor,
            IdempotencyKey = request.IdempotencyKey,
            RequestHash = request.Fingerprint,
            Description = posted.Description,
            Actor = request.Actor,
            CreatedAt = now,
        };
        // Added asynchronously: a key block, when one runs out, is read from its sequence.
        await db.Transactions.AddAsync(record, cancellationToken);
        var answer = FinanceMapping.Transaction(View(record));
        record.Result = answer.ToByteArray();
        foreach (var entry in book.Entries)
        {
            // Linked, not by ID: EF fills the transaction's ID in when both are inserted by the same save.
            await db.Entries.AddAsync(new LedgerEntry
            {
                Transaction = record,
                AccountId = entry.Party.UserId is { } user ? locked[user].Id : platform[entry.Party.Kind],
                Bucket = entry.Party.Bucket,
                Amount = entry.Amount,
                Currency = plan.Currency.Code,
                CreatedAt = now,
            }, cancellationToken);
        }
        foreach (var (user, total) in DailyLimit.Changes(plan, posted, targetView, now, totals))
        {
            locked[user].Sent = total;
        }
        foreach (var (user, account) in locked)
        {
            if (book.Changed(user))
            {
                (account.Available, account.Held) = book.After[user];
                account.Version++;
                account.UpdatedAt = now;
            }
        }
        await db.Audit.AddAsync(new AuditRecord
        {
            Transaction = record,
            Actor = request.Actor,
            Action = MovementRules.Name(posted.Kind),
            Before = Snapshot(plan.Currency, book.Before, lockedTarget, targetBefore),
            After = Snapshot(plan.Currency, book.After, lockedTarget, lockedTarget?.Status),
            RequestId = request.RequestId,
            TraceId = Activity.Current?.TraceId.ToHexString(),
            OccurredAt = now,
        }, cancellationToken);
        db.AddEvent(FinanceTopics.For(posted.Kind), FinanceEvents.MovementCompleted(View(record), now), record.Master);
        foreach (var user in book.FellBelowThreshold())
        {
            db.AddEvent(FinanceTopics.BalanceLow, FinanceEvents.BalanceLow(user, plan.Currency, book.After[user].Available, now), locked[user].MasterId);
        }
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        await balances.MarkStaleAsync(locked.Values.Where(account => book.Changed(account.UserId!.Value)).ToList(), cancellationToken);
        return answer;
    }

    /// <summary>A transaction as callers see it.</summary>
    public static TransactionView View(LedgerTransaction record) => new(record.Master.Uuid, record.Type, record.Status, record.Currency, record.Amount,
        record.UserId, record.CounterpartyUserId, record.Related?.Master.Uuid, record.IdempotencyKey, record.Description, record.CreatedAt);

    /// <summary>One transaction by ID, or null.</summary>
    public async Task<TransactionView?> FindAsync(Guid id, CancellationToken cancellationToken) =>
        await Transactions().Include(t => t.Related!.Master).FirstOrDefaultAsync(t => t.Master.Uuid == id, cancellationToken) is { } record ? View(record) : null;

    private IQueryable<LedgerTransaction> Transactions() => db.Transactions.AsNoTracking().Include(t => t.Master);

    private sealed record StoredAnswer(byte[] RequestHash, byte[] Result);

    // Compiled once: every posting asks it first, and a compiled query skips building and looking up the LINQ tree.
    private static readonly Func<FinanceDbContext, string, string, CancellationToken, Task<StoredAnswer?>> StoredAnswerOf =
        EF.CompileAsyncQuery((FinanceDbContext db, string scope, string key, CancellationToken _) =>
            db.Transactions.AsNoTracking().Where(t => t.IdempotencyScope == scope && t.IdempotencyKey == key)
                .Select(t => new StoredAnswer(t.RequestHash, t.Result)).FirstOrDefault());

    /// <summary>The stored answer to an earlier use of the key, or null when it is unused.</summary>
    private async Task<V1.Transaction?> ReplayAsync(RequestEnvelope request, CancellationToken cancellationToken)
    {
        var earlier = await StoredAnswerOf(db, request.Actor, request.IdempotencyKey, cancellationToken);
        if (earlier is null)
        {
            return null;
        }
        Idempotency.EnsureSameRequest(earlier.RequestHash, request.Fingerprint, request.IdempotencyKey);
        return V1.Transaction.Parser.ParseFrom(earlier.Result);
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
    private static string Snapshot(Currency currency, IReadOnlyDictionary<Guid, Balances> accounts, LedgerTransaction? target, TransactionState? status) => JsonSerializer.Serialize(new
    {
        accounts = accounts.Select(a => new { user_id = a.Key, currency = currency.Code, available = a.Value.Available, held = a.Value.Held }),
        transactions = target is null ? [] : new[] { new { transaction_id = target.Master.Uuid, status = status.ToString() } },
    });
}
