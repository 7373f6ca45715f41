using Google.Protobuf.WellKnownTypes;
using Ovasabi.Finance.Domain;
using Ovasabi.Finance.Grpc;
using Ovasabi.Finance.V1.Events;

namespace Ovasabi.Finance.Events;

/// <summary>The events this service announces, built from what the domain decided.</summary>
public static class FinanceEvents
{
    public static MovementCompleted MovementCompleted(TransactionView transaction, DateTimeOffset now) => new()
    {
        TransactionId = transaction.Id.ToString(),
        UserId = transaction.UserId.ToString(),
        CounterpartyUserId = transaction.CounterpartyUserId?.ToString() ?? "",
        Amount = FinanceMapping.Money(transaction.Currency, transaction.Amount),
        OccurredAt = Timestamp.FromDateTimeOffset(now),
    };

    public static BalanceLow BalanceLow(Guid userId, Currency currency, long available, DateTimeOffset now) => new()
    {
        UserId = userId.ToString(),
        Available = FinanceMapping.Money(currency.Code, available),
        Threshold = FinanceMapping.Money(currency.Code, currency.LowBalanceThreshold),
        OccurredAt = Timestamp.FromDateTimeOffset(now),
    };
}
