using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.Finance.Data;
using Ovasabi.Finance.Events;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Finance.Domain;

/// <summary>
/// What a mutating RPC asks of the ledger: its idempotency key and request (the key's scope is the caller), the
/// currency and the users whose accounts it changes.
/// </summary>
public sealed record Command(ServerCallContext Context, string IdempotencyKey, IMessage Request, Currency Currency, IReadOnlyList<Guid> Users);

/// <summary>
/// Runs money movements: each one posts balanced entries and updates the balances of its user accounts in one
/// PostgreSQL transaction, with the accounts locked in ascending ID order (so concurrent postings wait for each other
/// instead of deadlocking), the audit row and the outbox event in the same transaction, and the answer stored under the
/// idempotency key. After the commit the new balances replace the cached ones.
/// </summary>
public sealed class Ledger(FinanceDbContext db, BalanceReader balances, ILogger<Ledger> logger)
{
    // Accounts are never deleted, so their IDs can be remembered for the process's life.
    private static readonly ConcurrentDictionary<(AccountKind Kind, Guid? UserId, string Currency), long> AccountIds = new();

    /// <summary>
    /// Answers a mutating RPC exactly once per idempotency key: a retry of the same request gets the first answer, a
    /// different request under a used key is FailedPrecondition. <paramref name="admit"/> runs before any lock is taken
    /// (e.g. remote checks), <paramref name="post"/> inside the transaction with the accounts locked.
    /// </summary>
    public async Task<Transaction> RunAsync(Command command, Func<CancellationToken, Task> admit, Func<Posting, Task<LedgerTransaction>> post)
    {
        var cancellationToken = command.Context.CancellationToken;
        var scope = command.Context.GetCaller().Actor;
        var hash = RequestHash(command.Context.Method, command.Request);
        if (await ReplayAsync(scope, command.IdempotencyKey, hash, cancellationToken) is { } earlier)
        {
            return earlier;
        }
        await admit(cancellationToken);
        var accountIds = new List<long>();
        foreach (var user in command.Users.Distinct())
        {
            accountIds.Add(await AccountIdAsync(AccountKind.User, user, command.Currency.Code, cancellationToken));
        }
        var external = await AccountIdAsync(AccountKind.External, null, command.Currency.Code, cancellationToken);
        var revenue = await AccountIdAsync(AccountKind.Revenue, null, command.Currency.Code, cancellationToken);

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // One poster per key at a time: the second waits here, then finds the first one's answer.
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({scope + "\n" + command.IdempotencyKey}, 0))", cancellationToken);
        if (await ReplayAsync(scope, command.IdempotencyKey, hash, cancellationToken) is { } raced)
        {
            return raced;
        }
        var ids = accountIds.ToArray();
        var locked = await db.Accounts.FromSql($"SELECT * FROM service_finance_account WHERE id = ANY({ids}) ORDER BY id FOR UPDATE")
            .Include(a => a.Master).ToListAsync(cancellationToken);
        var posting = new Posting(db, command, locked, external, revenue, scope, hash);
        var record = await post(posting);
        var result = ToProto(record);
        record.Result = result.ToByteArray();
        posting.Finish(record);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);

        await Task.WhenAll(locked.Select(account => balances.PublishAsync(account, cancellationToken)));
        return result;
    }

    /// <summary>The stored answer to an earlier use of the key, or null when it is unused.</summary>
    private async Task<Transaction?> ReplayAsync(string scope, string key, byte[] hash, CancellationToken cancellationToken)
    {
        var earlier = await db.Transactions.AsNoTracking()
            .Where(t => t.IdempotencyScope == scope && t.IdempotencyKey == key)
            .Select(t => new { t.RequestHash, t.Result })
            .FirstOrDefaultAsync(cancellationToken);
        if (earlier is null)
        {
            return null;
        }
        if (!CryptographicOperations.FixedTimeEquals(earlier.RequestHash, hash))
        {
            throw new FailedPreconditionException($"idempotency key '{key}' was used for a different request; use a new key for a new request", "IDEMPOTENCY_KEY_REUSED");
        }
        return Transaction.Parser.ParseFrom(earlier.Result);
    }

    private static byte[] RequestHash(string method, IMessage request)
    {
        var bytes = request.ToByteArray();
        var input = new byte[method.Length + 1 + bytes.Length];
        System.Text.Encoding.ASCII.GetBytes(method, input);
        bytes.CopyTo(input, method.Length + 1);
        return SHA256.HashData(input);
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
                UpdatedAt = DateTimeOffset.UtcNow,
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

    public static Transaction ToProto(LedgerTransaction record) => new()
    {
        TransactionId = record.Master.Uuid.ToString(),
        Type = record.Type,
        Status = record.Status,
        Amount = Currencies.Money(record.Currency, record.Amount),
        UserId = record.UserId.ToString(),
        CounterpartyUserId = record.CounterpartyUserId?.ToString() ?? "",
        RelatedTransactionId = record.Related?.Master.Uuid.ToString() ?? "",
        IdempotencyKey = record.IdempotencyKey,
        Description = record.Description,
        CreateTime = Timestamp.FromDateTimeOffset(record.CreatedAt),
    };
}

/// <summary>
/// One posting in progress, inside its transaction: moves money between locked user accounts and the platform's
/// accounts, refusing any move that would leave a user balance negative, and records the transaction, its audit row
/// and its events.
/// </summary>
public sealed class Posting
{
    private readonly FinanceDbContext _db;
    private readonly Command _command;
    private readonly Dictionary<Guid, Account> _users;
    private readonly Dictionary<long, (long Available, long Held)> _before;
    private readonly long _external;
    private readonly long _revenue;
    private readonly string _actor;
    private readonly byte[] _requestHash;
    private readonly List<LedgerEntry> _entries = [];
    private readonly List<(LedgerTransaction Transaction, TransactionStatus From)> _statusChanges = [];
    private readonly DateTimeOffset _now = TruncateToMicroseconds(DateTimeOffset.UtcNow);

    internal Posting(FinanceDbContext db, Command command, IReadOnlyList<Account> locked, long external, long revenue, string actor, byte[] requestHash)
    {
        _requestHash = requestHash;
        _db = db;
        _command = command;
        _users = locked.ToDictionary(a => a.UserId!.Value);
        _before = locked.ToDictionary(a => a.Id, a => (a.Available, a.Held));
        _external = external;
        _revenue = revenue;
        _actor = actor;
    }

    public Currency Currency => _command.Currency;

    public Account Account(Guid userId) => _users[userId];

    /// <summary>Locks a transaction this posting acts on (a hold to release, a movement to reverse), with its master row.</summary>
    public async Task<LedgerTransaction> LockTransactionAsync(long id) =>
        await _db.Transactions.FromSql($"SELECT * FROM service_finance_transaction WHERE id = {id} FOR UPDATE")
            .Include(t => t.Master).SingleAsync(_command.Context.CancellationToken);

    public void ChangeStatus(LedgerTransaction transaction, TransactionStatus status)
    {
        _statusChanges.Add((transaction, transaction.Status));
        transaction.Status = status;
    }

    /// <summary>Money coming into the platform: external → the user's available balance.</summary>
    public void FromOutside(Guid userId, long amount) => Move(Platform(_external), User(userId, Bucket.Available), amount);

    /// <summary>Money leaving the platform: the user's available balance → external.</summary>
    public void ToOutside(Guid userId, long amount) => Move(User(userId, Bucket.Available), Platform(_external), amount);

    /// <summary>Between users' accounts, or between the buckets of one account (a hold, a release).</summary>
    public void Between(Guid from, Bucket fromBucket, Guid to, Bucket toBucket, long amount) =>
        Move(User(from, fromBucket), User(to, toBucket), amount);

    /// <summary>Held money the platform takes: the user's held balance → revenue.</summary>
    public void ToRevenue(Guid userId, long amount) => Move(User(userId, Bucket.Held), Platform(_revenue), amount);

    /// <summary>One side of a move: a locked user account's bucket, or a platform account (not locked, not checked).</summary>
    private readonly record struct Side(long AccountId, Account? Locked, Bucket Bucket);

    private Side User(Guid userId, Bucket bucket) => new(Account(userId).Id, Account(userId), bucket);

    private static Side Platform(long accountId) => new(accountId, null, Bucket.Available);

    private void Move(Side from, Side to, long amount)
    {
        if (from.Locked is { } source)
        {
            var balance = from.Bucket == Bucket.Available ? source.Available : source.Held;
            if (balance < amount)
            {
                throw from.Bucket == Bucket.Available
                    ? new FailedPreconditionException($"insufficient funds: {Currency.Format(balance)} {Currency.Code} available, {Currency.Format(amount)} needed", "INSUFFICIENT_FUNDS")
                    : new FailedPreconditionException($"only {Currency.Format(balance)} {Currency.Code} held", "INSUFFICIENT_HELD_FUNDS");
            }
            Apply(source, from.Bucket, -amount);
        }
        if (to.Locked is { } target)
        {
            Apply(target, to.Bucket, amount);
        }
        _entries.Add(Entry(from.AccountId, from.Bucket, -amount));
        _entries.Add(Entry(to.AccountId, to.Bucket, amount));
    }

    private static void Apply(Account account, Bucket bucket, long amount)
    {
        if (bucket == Bucket.Available)
        {
            account.Available += amount;
        }
        else
        {
            account.Held += amount;
        }
    }

    private LedgerEntry Entry(long accountId, Bucket bucket, long amount) =>
        new() { AccountId = accountId, Bucket = bucket, Amount = amount, Currency = Currency.Code, CreatedAt = _now };

    /// <summary>What one user has sent away today (UTC): withdrawals and transfers out that were not reversed.</summary>
    public async Task EnsureWithinDailyLimitAsync(Guid userId, long amount)
    {
        var since = new DateTimeOffset(_now.UtcDateTime.Date, TimeSpan.Zero);
        var currency = Currency.Code;
        var sent = await _db.Transactions.Where(t => t.UserId == userId && t.Currency == currency && t.CreatedAt >= since
                                                     && (t.Type == TransactionType.Withdrawal || t.Type == TransactionType.Transfer)
                                                     && t.Status != TransactionStatus.Reversed)
            .SumAsync(t => t.Amount, _command.Context.CancellationToken);
        if (sent + amount > Currency.DailyLimit)
        {
            throw new ResourceExhaustedException(
                $"the daily limit of {Currency.Format(Currency.DailyLimit)} {currency} would be exceeded: {Currency.Format(sent)} sent today, {Currency.Format(amount)} more asked",
                "DAILY_LIMIT_EXCEEDED");
        }
    }

    /// <summary>The transaction this posting records; the caller sets what is specific to it.</summary>
    public LedgerTransaction Record(TransactionType type, Guid userId, long amount, string description, Guid? counterparty = null, LedgerTransaction? related = null)
    {
        var record = new LedgerTransaction
        {
            Master = new MasterRecord { Type = "transaction", Name = type.ToString().ToLowerInvariant() },
            Type = type,
            Status = TransactionStatus.Completed,
            UserId = userId,
            CounterpartyUserId = counterparty,
            Currency = Currency.Code,
            Amount = amount,
            Related = related,
            RelatedTransactionId = related?.Id,
            IdempotencyScope = _actor,
            IdempotencyKey = _command.IdempotencyKey,
            RequestHash = _requestHash,
            Description = description,
            Actor = _actor,
            CreatedAt = _now,
        };
        _db.Transactions.Add(record);
        return record;
    }

    /// <summary>Adds the entries, the audit row and the events, once the transaction is recorded.</summary>
    internal void Finish(LedgerTransaction record)
    {
        foreach (var entry in _entries)
        {
            // Linked, not by ID: EF fills the transaction's ID in when both are inserted by the same save.
            entry.Transaction = record;
            _db.Entries.Add(entry);
        }
        var metadata = _command.Context.RequestHeaders;
        _db.Audit.Add(new AuditRecord
        {
            Transaction = record,
            Actor = _actor,
            Action = record.Type.ToString().ToLowerInvariant(),
            Before = Snapshot(before: true),
            After = Snapshot(before: false),
            RequestId = metadata.GetValue("x-request-id") is { Length: > 0 and <= 128 } requestId ? requestId : null,
            TraceId = Activity.Current?.TraceId.ToHexString(),
            OccurredAt = _now,
        });
        _db.AddEvent(FinanceTopics.For(record.Type), new MovementCompleted
        {
            TransactionId = record.Master.Uuid.ToString(),
            UserId = record.UserId.ToString(),
            CounterpartyUserId = record.CounterpartyUserId?.ToString() ?? "",
            Amount = Currency.Money(record.Amount),
            OccurredAt = Timestamp.FromDateTimeOffset(_now),
        }, record.Master);
        foreach (var account in _users.Values)
        {
            var threshold = Currency.LowBalanceThreshold;
            if (threshold > 0 && _before[account.Id].Available >= threshold && account.Available < threshold)
            {
                _db.AddEvent(FinanceTopics.BalanceLow, new BalanceLow
                {
                    UserId = account.UserId!.Value.ToString(),
                    Available = Currency.Money(account.Available),
                    Threshold = Currency.Money(threshold),
                    OccurredAt = Timestamp.FromDateTimeOffset(_now),
                }, account.Master);
            }
            if (_before[account.Id] != (account.Available, account.Held))
            {
                account.Version++;
                account.UpdatedAt = _now;
            }
        }
    }

    private string Snapshot(bool before) => JsonSerializer.Serialize(new
    {
        accounts = _users.Values.Select(a => new
        {
            user_id = a.UserId,
            currency = a.Currency,
            available = before ? _before[a.Id].Available : a.Available,
            held = before ? _before[a.Id].Held : a.Held,
        }),
        transactions = _statusChanges.Select(c => new
        {
            transaction_id = c.Transaction.Master.Uuid,
            status = (before ? c.From : c.Transaction.Status).ToString(),
        }),
    });

    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset value) => value.AddTicks(-(value.Ticks % 10));
}
