using Ovasabi.ServiceDefaults.Grpc;
using static Ovasabi.Finance.Domain.MovementRules;

namespace Ovasabi.Finance.Domain;

/// <summary>What a movement needs before any lock: its currency, the user accounts it locks, whether those users must
/// be active, and whose money sent today counts against the daily limit.</summary>
public sealed record Plan(Currency Currency, IReadOnlyList<Guid> Accounts, bool UsersMustBeActive, Guid? DailyTotalOf);

/// <summary>What a posted movement records: its transaction and, when it acts on another, that one's new state.</summary>
public sealed record Posted(TransactionKind Kind, Guid UserId, long Amount, string Description, Guid? CounterpartyUserId = null,
    TransactionState? TargetBecomes = null);

/// <summary>
/// A money movement asked for by a caller. The ledger plans it (with the transaction it acts on, read without a lock),
/// locks what the plan names, and posts it in a <see cref="Book"/> (with that transaction locked and read again).
/// </summary>
public abstract record Movement
{
    /// <summary>The transaction this movement acts on (a hold to settle, a movement to reverse), or none.</summary>
    public virtual Guid? TargetId => null;

    /// <summary>The kind of transaction it records when it posts.</summary>
    public abstract TransactionKind Kind { get; }

    public abstract Plan Plan(Currencies currencies, TransactionView? target);

    /// <summary>Moves the money in <paramref name="book"/>; <paramref name="sentToday"/> is what <see cref="Plan.DailyTotalOf"/> sent today.</summary>
    public abstract Posted Post(Book book, TransactionView? target, long sentToday);
}

/// <summary>Money paid in from outside the platform.</summary>
public sealed record Deposit(Guid UserId, Currency Currency, long Amount, string Description) : Movement
{
    public override TransactionKind Kind => TransactionKind.Deposit;

    public override Plan Plan(Currencies currencies, TransactionView? target) => new(Currency, [UserId], UsersMustBeActive: true, DailyTotalOf: null);

    public override Posted Post(Book book, TransactionView? target, long sentToday)
    {
        book.FromOutside(UserId, Amount);
        return new Posted(TransactionKind.Deposit, UserId, Amount, Description);
    }
}

/// <summary>Money paid out of the platform, within the daily limit.</summary>
public sealed record Withdrawal(Guid UserId, Currency Currency, long Amount, string Description) : Movement
{
    public override TransactionKind Kind => TransactionKind.Withdrawal;

    public override Plan Plan(Currencies currencies, TransactionView? target) => new(Currency, [UserId], UsersMustBeActive: true, DailyTotalOf: UserId);

    public override Posted Post(Book book, TransactionView? target, long sentToday)
    {
        DailyLimit.Ensure(Currency, sentToday, Amount);
        book.ToOutside(UserId, Amount);
        return new Posted(TransactionKind.Withdrawal, UserId, Amount, Description);
    }
}

/// <summary>Money from one user's available balance to another's, within the sender's daily limit.</summary>
public sealed record Transfer(Guid FromUserId, Guid ToUserId, Currency Currency, long Amount, string Description) : Movement
{
    public override TransactionKind Kind => TransactionKind.Transfer;

    public override Plan Plan(Currencies currencies, TransactionView? target) =>
        new(Currency, [FromUserId, ToUserId], UsersMustBeActive: true, DailyTotalOf: FromUserId);

    public override Posted Post(Book book, TransactionView? target, long sentToday)
    {
        DailyLimit.Ensure(Currency, sentToday, Amount);
        book.Between(FromUserId, Bucket.Available, ToUserId, Bucket.Available, Amount);
        return new Posted(TransactionKind.Transfer, FromUserId, Amount, Description, CounterpartyUserId: ToUserId);
    }
}

/// <summary>Money set aside from a user's available balance until it is released or captured.</summary>
public sealed record Hold(Guid UserId, Currency Currency, long Amount, string Description) : Movement
{
    public override TransactionKind Kind => TransactionKind.Hold;

    public override Plan Plan(Currencies currencies, TransactionView? target) => new(Currency, [UserId], UsersMustBeActive: true, DailyTotalOf: null);

    public override Posted Post(Book book, TransactionView? target, long sentToday)
    {
        book.Between(UserId, Bucket.Available, UserId, Bucket.Held, Amount);
        return new Posted(TransactionKind.Hold, UserId, Amount, Description);
    }
}

/// <summary>A hold ended once: released back to the user, or captured by the platform.</summary>
public sealed record Settlement(Guid HoldId, bool Capture) : Movement
{
    public override TransactionKind Kind => Capture ? TransactionKind.Capture : TransactionKind.Release;

    public override Guid? TargetId => HoldId;

    public override Plan Plan(Currencies currencies, TransactionView? target)
    {
        var hold = Require(target);
        if (hold.Kind != TransactionKind.Hold)
        {
            throw new FailedPreconditionException($"transaction {HoldId} is a {Name(hold.Kind)}, not a hold", "NOT_A_HOLD");
        }
        return new Plan(currencies.Get(hold.Currency), [hold.UserId], UsersMustBeActive: false, DailyTotalOf: null);
    }

    public override Posted Post(Book book, TransactionView? target, long sentToday)
    {
        var hold = Require(target);
        if (hold.State != TransactionState.Completed)
        {
            throw new FailedPreconditionException($"hold {HoldId} was already released or captured", "HOLD_SETTLED");
        }
        if (Capture)
        {
            book.ToRevenue(hold.UserId, hold.Amount);
        }
        else
        {
            book.Between(hold.UserId, Bucket.Held, hold.UserId, Bucket.Available, hold.Amount);
        }
        return new Posted(Capture ? TransactionKind.Capture : TransactionKind.Release, hold.UserId, hold.Amount, "", TargetBecomes: TransactionState.Settled);
    }

    private TransactionView Require(TransactionView? target) => target ?? throw new NotFoundException("transaction", HoldId.ToString());
}

/// <summary>A deposit, withdrawal or transfer undone once, with the reason.</summary>
public sealed record Reversal(Guid TransactionId, string Reason) : Movement
{
    public override TransactionKind Kind => TransactionKind.Reversal;

    public override Guid? TargetId => TransactionId;

    public override Plan Plan(Currencies currencies, TransactionView? target)
    {
        var original = Require(target);
        if (original.Kind is not (TransactionKind.Deposit or TransactionKind.Withdrawal or TransactionKind.Transfer))
        {
            throw new FailedPreconditionException($"a {Name(original.Kind)} cannot be reversed; only deposits, withdrawals and transfers can", "NOT_REVERSIBLE");
        }
        Guid[] involved = original.CounterpartyUserId is { } counterparty ? [original.UserId, counterparty] : [original.UserId];
        return new Plan(currencies.Get(original.Currency), involved, UsersMustBeActive: false, DailyTotalOf: null);
    }

    public override Posted Post(Book book, TransactionView? target, long sentToday)
    {
        var original = Require(target);
        if (original.State != TransactionState.Completed)
        {
            throw new FailedPreconditionException($"transaction {TransactionId} is already {original.State.ToString().ToLowerInvariant()}", "ALREADY_REVERSED");
        }
        switch (original.Kind)
        {
            case TransactionKind.Deposit:
                book.ToOutside(original.UserId, original.Amount);
                break;
            case TransactionKind.Withdrawal:
                book.FromOutside(original.UserId, original.Amount);
                break;
            default:
                book.Between(original.CounterpartyUserId!.Value, Bucket.Available, original.UserId, Bucket.Available, original.Amount);
                break;
        }
        return new Posted(TransactionKind.Reversal, original.UserId, original.Amount, Reason, original.CounterpartyUserId, TransactionState.Reversed);
    }

    private TransactionView Require(TransactionView? target) => target ?? throw new NotFoundException("transaction", TransactionId.ToString());
}

/// <summary>The checks on a movement's inputs that are the same for every RPC.</summary>
public static class MovementRules
{
    public const int MaxDescription = 500;

    public const int MaxIdempotencyKey = 128;

    public static Validator IdempotencyKey(this Validator validator, string field, string key) =>
        validator.Required(field, key).MaxLength(field, key, MaxIdempotencyKey)
            .Check(field, key.All(c => c is > ' ' and <= '~'), "must be printable ASCII without spaces (e.g. a UUID)");

    public static Validator Description(this Validator validator, string field, string text) => validator.MaxLength(field, text, MaxDescription);

    /// <summary>A transfer needs two users; checked only once both IDs are valid.</summary>
    public static Validator DistinctParties(this Validator validator, string field, Guid from, Guid to, string fromField) =>
        validator.Check(field, from == Guid.Empty || from != to, $"must differ from {fromField}: a transfer to oneself moves nothing");

    internal static string Name(TransactionKind kind) => kind.ToString().ToLowerInvariant();
}

/// <summary>What one user may send away per UTC day: withdrawals and transfers out that were not reversed.</summary>
public static class DailyLimit
{
    /// <summary>The UTC day <paramref name="at"/> falls in.</summary>
    public static DateOnly Day(DateTimeOffset at) => DateOnly.FromDateTime(at.UtcDateTime);

    /// <summary>Whether a transaction of this kind counts towards its sender's day.</summary>
    public static bool Counts(TransactionKind kind) => kind is TransactionKind.Withdrawal or TransactionKind.Transfer;

    /// <summary>ResourceExhausted when <paramref name="amount"/> more would take today's total past the limit.</summary>
    public static void Ensure(Currency currency, long sentToday, long amount)
    {
        if (sentToday + amount > currency.DailyLimit)
        {
            throw new ResourceExhaustedException(
                $"the daily limit of {currency.Format(currency.DailyLimit)} {currency.Code} would be exceeded: {currency.Format(sentToday)} sent today, {currency.Format(amount)} more asked",
                "DAILY_LIMIT_EXCEEDED");
        }
    }

    /// <summary>
    /// The running totals a posting changes: the sender's day grows by what it sent; a reversed withdrawal or transfer
    /// leaves the day it was sent on (a reversal of an earlier day's sending frees nothing today).
    /// </summary>
    public static IEnumerable<(Guid User, DailyTotal Total)> Changes(Plan plan, Posted posted, TransactionView? target, DateTimeOffset now,
        IReadOnlyDictionary<Guid, DailyTotal> totals)
    {
        if (plan.DailyTotalOf is { } sender)
        {
            yield return (sender, totals[sender].Add(Day(now), posted.Amount));
        }
        if (posted.Kind == TransactionKind.Reversal && target is { } original && Counts(original.Kind))
        {
            yield return (original.UserId, totals[original.UserId].Remove(Day(original.CreatedAt), original.Amount));
        }
    }
}

/// <summary>
/// What a user sent away on one UTC day, kept on their account row and changed under its lock, so a posting reads it
/// with the balances instead of summing the day's transactions.
/// </summary>
/// <param name="Day">The day <paramref name="Amount"/> counts; null before the account's first sending.</param>
public readonly record struct DailyTotal(DateOnly? Day, long Amount)
{
    /// <summary>What was sent on <paramref name="day"/>: nothing when the total is of another day.</summary>
    public long On(DateOnly day) => Day == day ? Amount : 0;

    public DailyTotal Add(DateOnly day, long amount) => new(day, On(day) + amount);

    public DailyTotal Remove(DateOnly day, long amount) => Day == day ? this with { Amount = Amount - amount } : this;
}
