using System.Collections.Frozen;
using System.Globalization;
using System.Numerics;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Finance.Domain;

/// <summary>A currency the platform moves: its ISO 4217 code, decimals and limits in minor units.</summary>
public sealed record Currency(string Code, int Scale, long MaxTransaction, long DailyLimit, long LowBalanceThreshold)
{
    /// <summary>Minor units as a decimal string in major units ("1234" EUR → "12.34").</summary>
    public string Format(long minorUnits) => Currencies.Format(minorUnits, Scale);
}

/// <summary>An amount as a caller states it: a currency code with minor units, a decimal in major units, or both (then they must agree).</summary>
public sealed record MoneyInput(string CurrencyCode, long MinorUnits, string DecimalAmount);

/// <summary>ISO 4217 (shipped with the service) and the currencies configured among them.</summary>
public sealed class Currencies
{
    /// <summary>Every ISO 4217 code and its number of decimals.</summary>
    public static FrozenDictionary<string, int> Iso4217 { get; } = LoadIso4217();

    private readonly FrozenDictionary<string, Currency> _offered;

    /// <summary>Minor units of an ISO 4217 currency as a decimal string in major units.</summary>
    public static string Format(string code, long minorUnits) => Format(minorUnits, Iso4217.GetValueOrDefault(code, 0));

    public static string Format(long minorUnits, int scale) =>
        scale == 0 ? minorUnits.ToString(CultureInfo.InvariantCulture)
            : (minorUnits / (decimal)BigInteger.Pow(10, scale)).ToString("F" + scale, CultureInfo.InvariantCulture);

    public Currencies(FinanceOptions options)
    {
        if (Problems(options).FirstOrDefault() is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
        _offered = options.Currencies.ToFrozenDictionary(pair => pair.Key, pair =>
        {
            var (code, policy) = pair;
            var scale = Iso4217[code];
            return new Currency(code, scale, ToMinor(policy.MaxTransaction, scale)!.Value, ToMinor(policy.DailyLimit, scale)!.Value,
                ToMinor(policy.LowBalanceThreshold, scale)!.Value);
        }, StringComparer.Ordinal);
    }

    /// <summary>What is wrong with the configured currencies, each naming its configuration key.</summary>
    public static IEnumerable<string> Problems(FinanceOptions options)
    {
        if (options.Currencies.Count == 0)
        {
            yield return "Finance:Currencies: at least one currency is needed";
        }
        foreach (var (code, policy) in options.Currencies)
        {
            if (!Iso4217.TryGetValue(code, out var scale))
            {
                yield return $"Finance:Currencies:{code}: not an ISO 4217 currency code";
                continue;
            }
            foreach (var (name, value) in new[] { ("MaxTransaction", policy.MaxTransaction), ("DailyLimit", policy.DailyLimit), ("LowBalanceThreshold", policy.LowBalanceThreshold) })
            {
                if (ToMinor(value, scale) is null)
                {
                    yield return $"Finance:Currencies:{code}:{name}: {value} is not a non-negative amount with at most {scale} decimals";
                }
            }
            if (ToMinor(policy.MaxTransaction, scale) is 0)
            {
                yield return $"Finance:Currencies:{code}:MaxTransaction: must be positive";
            }
        }
    }

    /// <summary>An offered currency by code; records an InvalidArgument problem, or throws FailedPrecondition for one not offered.</summary>
    public Currency? Find(Validator validator, string field, string code)
    {
        if (string.IsNullOrEmpty(code))
        {
            validator.Add(field, "is required");
            return null;
        }
        if (!Iso4217.ContainsKey(code))
        {
            validator.Add(field, $"'{ErrorText.Quote(code)}' is not an ISO 4217 currency code (upper case, e.g. EUR)");
            return null;
        }
        return _offered.TryGetValue(code, out var currency) ? currency
            : throw new FailedPreconditionException($"the platform does not move {code}; it moves {string.Join(", ", _offered.Keys.Order())}", "CURRENCY_NOT_SUPPORTED");
    }

    /// <summary>A currency money was moved in; FailedPrecondition when the platform no longer moves it.</summary>
    public Currency Get(string code) =>
        _offered.TryGetValue(code, out var currency) ? currency
            : throw new FailedPreconditionException($"the platform no longer moves {code}", "CURRENCY_NOT_SUPPORTED");

    /// <summary>
    /// A positive amount of an offered currency, no larger than its per-transaction maximum: its currency and minor
    /// units. Problems are recorded on <paramref name="validator"/> under <paramref name="field"/>.
    /// </summary>
    public (Currency? Currency, long MinorUnits) Amount(Validator validator, string field, MoneyInput? money)
    {
        if (money is null)
        {
            validator.Add(field, "is required");
            return (null, 0);
        }
        var currency = Find(validator, field + ".currency_code", money.CurrencyCode);
        if (currency is null)
        {
            return (null, 0);
        }
        var units = money.MinorUnits;
        if (money.DecimalAmount.Length > 0)
        {
            var parsed = ParseDecimal(money.DecimalAmount, currency.Scale, out var problem);
            if (problem is not null)
            {
                validator.Add(field + ".decimal_amount", problem);
                return (currency, 0);
            }
            if (units != 0 && units != parsed)
            {
                validator.Add(field, $"minor_units {units} and decimal_amount {money.DecimalAmount} disagree");
                return (currency, 0);
            }
            units = parsed;
        }
        if (units <= 0)
        {
            validator.Add(field, "must be positive");
        }
        else if (units > currency.MaxTransaction)
        {
            validator.Add(field, $"must be at most {currency.Format(currency.MaxTransaction)} {currency.Code} per transaction");
        }
        return (currency, units);
    }

    /// <summary>A decimal in major units ("12.34") as minor units, refusing more decimals than the currency has.</summary>
    private static long ParseDecimal(string text, int scale, out string? problem)
    {
        problem = null;
        if (!decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
        {
            problem = "must be a decimal number like 12.34";
            return 0;
        }
        var decimals = text.Contains('.', StringComparison.Ordinal) ? text.Length - text.IndexOf('.', StringComparison.Ordinal) - 1 : 0;
        if (decimals > scale)
        {
            problem = scale == 0 ? "this currency has no decimals" : $"has {decimals} decimals; this currency has {scale}";
            return 0;
        }
        var minor = value * (decimal)BigInteger.Pow(10, scale);
        if (minor > long.MaxValue || minor < long.MinValue)
        {
            problem = "is too large";
            return 0;
        }
        return (long)minor;
    }

    private static long? ToMinor(decimal major, int scale)
    {
        var minor = major * (decimal)BigInteger.Pow(10, scale);
        return minor >= 0 && minor == decimal.Truncate(minor) && minor <= long.MaxValue ? (long)minor : null;
    }

    private static FrozenDictionary<string, int> LoadIso4217()
    {
        using var stream = typeof(Currencies).Assembly.GetManifestResourceStream("Ovasabi.Finance.Domain.iso4217.txt")
            ?? throw new InvalidOperationException("the ISO 4217 table is not embedded");
        using var reader = new StreamReader(stream);
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#')
            {
                var parts = line.Split(' ');
                table[parts[0]] = int.Parse(parts[1], CultureInfo.InvariantCulture);
            }
        }
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
