using Google.Protobuf.WellKnownTypes;
using Ovasabi.Common.V1;
using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Finance.Grpc;

/// <summary>The finance contract's messages ⇄ the domain's values. No rule lives here.</summary>
public static class FinanceMapping
{
    /// <summary>An amount in both forms, minor units and decimal.</summary>
    public static Money Money(string currency, long minorUnits) =>
        new() { CurrencyCode = currency, MinorUnits = minorUnits, DecimalAmount = Currencies.Format(currency, minorUnits) };

    public static MoneyInput? Input(Money? money) => money is null ? null : new MoneyInput(money.CurrencyCode, money.MinorUnits, money.DecimalAmount);

    public static V1.Transaction Transaction(TransactionView view) => new()
    {
        TransactionId = view.Id.ToString(),
        Type = (V1.TransactionType)view.Kind,
        Status = (V1.TransactionStatus)view.State,
        Amount = Money(view.Currency, view.Amount),
        UserId = view.UserId.ToString(),
        CounterpartyUserId = view.CounterpartyUserId?.ToString() ?? "",
        RelatedTransactionId = view.RelatedId?.ToString() ?? "",
        IdempotencyKey = view.IdempotencyKey,
        Description = view.Description,
        CreateTime = Timestamp.FromDateTimeOffset(view.CreatedAt),
    };

    public static V1.Balance Balance(BalanceView view) => new()
    {
        UserId = view.UserId.ToString(),
        Available = Money(view.Currency, view.Available),
        Held = Money(view.Currency, view.Held),
        UpdateTime = view.UpdatedAt is { } updated ? Timestamp.FromDateTimeOffset(updated) : null,
    };

    public static V1.Statement Statement(StatementView view, Timestamp start, Timestamp end)
    {
        var statement = new V1.Statement
        {
            UserId = view.UserId.ToString(),
            PeriodStart = start,
            PeriodEnd = end,
            OpeningBalance = Money(view.Currency.Code, view.Opening),
            ClosingBalance = Money(view.Currency.Code, view.Closing),
        };
        statement.Transactions.AddRange(view.Transactions.Select(Transaction));
        return statement;
    }

    /// <summary>Transaction types a filter names; an unknown or unspecified one is recorded as a problem.</summary>
    public static IReadOnlyList<TransactionKind> Kinds(Validator validator, string field, IEnumerable<V1.TransactionType> types)
    {
        var kinds = types.Select(t => (TransactionKind)t).ToList();
        validator.Check(field, kinds.All(System.Enum.IsDefined), "holds an unknown transaction type");
        return kinds;
    }

    /// <summary>Statuses a filter names; an unknown or unspecified one is recorded as a problem.</summary>
    public static IReadOnlyList<TransactionState> States(Validator validator, string field, IEnumerable<V1.TransactionStatus> statuses)
    {
        var states = statuses.Select(s => (TransactionState)s).ToList();
        validator.Check(field, states.All(System.Enum.IsDefined), "holds an unknown status");
        return states;
    }
}
