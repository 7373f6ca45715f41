using Ovasabi.Finance.V1;

namespace Ovasabi.Finance.Events;

/// <summary>The finance service's topics, <c>finance.&lt;entity&gt;.&lt;event&gt;</c>.</summary>
public static class FinanceTopics
{
    public const string DepositCompleted = "finance.deposit.completed";
    public const string WithdrawalCompleted = "finance.withdrawal.completed";
    public const string TransferCompleted = "finance.transfer.completed";
    public const string HoldPlaced = "finance.hold.placed";
    public const string HoldReleased = "finance.hold.released";
    public const string HoldCaptured = "finance.hold.captured";
    public const string TransactionReversed = "finance.transaction.reversed";
    public const string BalanceLow = "finance.balance.low";

    /// <summary>The topic announcing a completed movement of <paramref name="type"/>.</summary>
    public static string For(TransactionType type) => type switch
    {
        TransactionType.Deposit => DepositCompleted,
        TransactionType.Withdrawal => WithdrawalCompleted,
        TransactionType.Transfer => TransferCompleted,
        TransactionType.Hold => HoldPlaced,
        TransactionType.Release => HoldReleased,
        TransactionType.Capture => HoldCaptured,
        TransactionType.Reversal => TransactionReversed,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a movement"),
    };
}
