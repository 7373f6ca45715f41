namespace Ovasabi.Finance.Domain;

/// <summary>What a transaction did. The numbers are the contract's and the database's.</summary>
public enum TransactionKind
{
    Deposit = 1,
    Withdrawal = 2,
    Transfer = 3,
    Hold = 4,
    Release = 5,
    Capture = 6,
    Reversal = 7,
}

/// <summary>Where a transaction stands: done, a hold released or captured, or a movement undone.</summary>
public enum TransactionState
{
    Completed = 1,
    Settled = 2,
    Reversed = 3,
}

/// <summary>Whose account an entry lands in: a user's, or one of the platform's.</summary>
public enum AccountKind
{
    /// <summary>A user's money in one currency.</summary>
    User = 0,

    /// <summary>The world outside the platform: deposits come from it, withdrawals go to it.</summary>
    External = 1,

    /// <summary>What the platform earns: captured holds.</summary>
    Revenue = 2,
}

/// <summary>Where in an account an entry lands: spendable money, or money set aside by holds.</summary>
public enum Bucket
{
    Available = 0,
    Held = 1,
}

/// <summary>A recorded transaction as callers see it.</summary>
public sealed record TransactionView(
    Guid Id,
    TransactionKind Kind,
    TransactionState State,
    string Currency,
    long Amount,
    Guid UserId,
    Guid? CounterpartyUserId,
    Guid? RelatedId,
    string IdempotencyKey,
    string Description,
    DateTimeOffset CreatedAt);

/// <summary>A user's balance in one currency, in minor units.</summary>
public sealed record BalanceView(Guid UserId, string Currency, long Available, long Held, DateTimeOffset? UpdatedAt);

/// <summary>A user's movements over a period with the balance (available plus held) before and after it.</summary>
public sealed record StatementView(Guid UserId, Currency Currency, DateTimeOffset Start, DateTimeOffset End, long Opening, long Closing,
    IReadOnlyList<TransactionView> Transactions);
