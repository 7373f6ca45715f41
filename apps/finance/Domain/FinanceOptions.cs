using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Finance.Domain;

/// <summary>The finance service's policies (configuration section <c>Finance</c>).</summary>
public sealed class FinanceOptions
{
    public const string Section = "Finance";

    /// <summary>
    /// How long the user service's answer that a user is active is trusted before asking again (0: ask every time).
    /// A suspension announced to this replica applies at once; with several replicas, within this time at most.
    /// </summary>
    public TimeSpan ActiveUserCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a cached balance lives; every change replaces it, so this only bounds memory.</summary>
    public TimeSpan BalanceCacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The currencies the platform moves, each with its limits in major units (e.g. <c>Finance:Currencies:EUR:DailyLimit</c>).
    /// Configuration adds currencies to these defaults or changes their limits; any other ISO 4217 currency is refused.
    /// </summary>
    public Dictionary<string, CurrencyPolicy> Currencies { get; set; } = new(StringComparer.Ordinal)
    {
        ["EUR"] = new() { MaxTransaction = 10_000m, DailyLimit = 25_000m, LowBalanceThreshold = 10m },
        ["USD"] = new() { MaxTransaction = 10_000m, DailyLimit = 25_000m, LowBalanceThreshold = 10m },
        ["GBP"] = new() { MaxTransaction = 10_000m, DailyLimit = 25_000m, LowBalanceThreshold = 10m },
        ["CHF"] = new() { MaxTransaction = 10_000m, DailyLimit = 25_000m, LowBalanceThreshold = 10m },
        ["JPY"] = new() { MaxTransaction = 1_500_000m, DailyLimit = 3_750_000m, LowBalanceThreshold = 1_000m },
    };

    public static IEnumerable<string> Problems(FinanceOptions o) =>
        Settings.Check(o.ActiveUserCacheTtl >= TimeSpan.Zero, $"{Section}:ActiveUserCacheTtl", "must not be negative")
            .Concat(Settings.Check(o.BalanceCacheTtl > TimeSpan.Zero, $"{Section}:BalanceCacheTtl", "must be positive"))
            .Concat(Domain.Currencies.Problems(o));
}

/// <summary>Limits of one currency, in major units (EUR 12.34 is 12.34).</summary>
public sealed class CurrencyPolicy
{
    /// <summary>The largest amount of one movement.</summary>
    public decimal MaxTransaction { get; set; }

    /// <summary>
    /// What one user may send away per UTC day (withdrawals and transfers out, reversed ones not counted); over it, a
    /// movement is ResourceExhausted.
    /// </summary>
    public decimal DailyLimit { get; set; }

    /// <summary>An available balance falling below this announces <c>finance.balance.low</c>; 0 turns it off.</summary>
    public decimal LowBalanceThreshold { get; set; }
}
