using Ovasabi.Finance.Domain;

namespace Ovasabi.Finance.UnitTests;

/// <summary>The currencies the tests move: the service's defaults (EUR has 2 decimals, JPY none).</summary>
internal static class Money
{
    public static Currencies Offered { get; } = new(new FinanceOptions());

    public static Currency Eur => Offered.Get("EUR");

    public static Currency Jpy => Offered.Get("JPY");

    public static Guid Ada { get; } = Guid.Parse("0190c5a0-0000-7000-8000-00000000000a");

    public static Guid Bob { get; } = Guid.Parse("0190c5a0-0000-7000-8000-00000000000b");

    /// <summary>A book over Ada's and Bob's EUR accounts with these balances (minor units).</summary>
    public static Book Book(long adaAvailable, long adaHeld = 0, long bobAvailable = 0, Currency? currency = null) =>
        new(currency ?? Eur, new Dictionary<Guid, Balances> { [Ada] = new(adaAvailable, adaHeld), [Bob] = new(bobAvailable, 0) });

    public static TransactionView Recorded(TransactionKind kind, long amount, TransactionState state = TransactionState.Completed, Guid? counterparty = null,
        string currency = "EUR") =>
        new(Guid.CreateVersion7(), kind, state, currency, amount, Ada, counterparty, null, "key-1", "", DateTimeOffset.UnixEpoch);
}
