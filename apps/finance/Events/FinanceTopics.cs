using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;

namespace Ovasabi.Finance.Events;

/// <summary>The topics this service publishes, as its events.proto names them (FinanceTopic); payloads are in events.proto.</summary>
public static class FinanceTopics
{
    public static readonly string DepositCompleted = TopicName.Of(FinanceTopic.DepositCompleted);
    public static readonly string WithdrawalCompleted = TopicName.Of(FinanceTopic.WithdrawalCompleted);
    public static readonly string TransferCompleted = TopicName.Of(FinanceTopic.TransferCompleted);
    public static readonly string HoldPlaced = TopicName.Of(FinanceTopic.HoldPlaced);
    public static readonly string HoldReleased = TopicName.Of(FinanceTopic.HoldReleased);
    public static readonly string HoldCaptured = TopicName.Of(FinanceTopic.HoldCaptured);
    public static readonly string TransactionReversed = TopicName.Of(FinanceTopic.TransactionReversed);
    public static readonly string BalanceLow = TopicName.Of(FinanceTopic.BalanceLow);

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
