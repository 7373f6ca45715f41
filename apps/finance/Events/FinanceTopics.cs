using Ovasabi.Contracts;
using Ovasabi.Finance.Domain;
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

    /// <summary>The topic announcing a completed movement of <paramref name="kind"/>.</summary>
    public static string For(TransactionKind kind) => kind switch
    {
        TransactionKind.Deposit => DepositCompleted,
        TransactionKind.Withdrawal => WithdrawalCompleted,
        TransactionKind.Transfer => TransferCompleted,
        TransactionKind.Hold => HoldPlaced,
        TransactionKind.Release => HoldReleased,
        TransactionKind.Capture => HoldCaptured,
        TransactionKind.Reversal => TransactionReversed,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a movement"),
    };
}
