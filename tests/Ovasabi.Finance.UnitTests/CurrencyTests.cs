using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Grpc;
using static Ovasabi.Finance.UnitTests.Money;

namespace Ovasabi.Finance.UnitTests;

/// <summary>Amounts as callers state them: minor units, a decimal, or both; never floating point.</summary>
public sealed class CurrencyTests
{
    [Theory]
    [InlineData("EUR", 1234, "12.34")]
    [InlineData("EUR", 5, "0.05")]
    [InlineData("EUR", -1, "-0.01")]
    [InlineData("JPY", 1234, "1234")]
    [InlineData("BHD", 1234, "1.234")]
    [InlineData("EUR", long.MaxValue, "92233720368547758.07")]
    public void Minor_units_format_as_a_decimal_with_the_currencys_decimals(string code, long minor, string text)
    {
        Assert.Equal(text, Currencies.Format(code, minor));
    }

    [Theory]
    [InlineData(1234, "", 1234)]
    [InlineData(0, "12.34", 1234)]
    [InlineData(1234, "12.34", 1234)]
    [InlineData(0, "12.3", 1230)]
    [InlineData(0, "12", 1200)]
    public void An_amount_is_minor_units_or_a_decimal_or_both_when_they_agree(long minor, string text, long expected)
    {
        var validator = new Validator();

        var (currency, units) = Offered.Amount(validator, "amount", new MoneyInput("EUR", minor, text));

        Assert.True(validator.IsValid);
        Assert.Equal(("EUR", expected), (currency!.Code, units));
    }

    [Theory]
    [InlineData(1000, "12.34", "amount", "minor_units 1000 and decimal_amount 12.34 disagree")]
    [InlineData(0, "12.345", "amount.decimal_amount", "has 3 decimals; this currency has 2")]
    [InlineData(0, "1e3", "amount.decimal_amount", "must be a decimal number like 12.34")]
    [InlineData(0, "twelve", "amount.decimal_amount", "must be a decimal number like 12.34")]
    [InlineData(0, "", "amount", "must be positive")]
    [InlineData(-5, "", "amount", "must be positive")]
    [InlineData(0, "-1.00", "amount", "must be positive")]
    [InlineData(1_000_001, "", "amount", "must be at most 10000.00 EUR per transaction")]
    public void A_wrong_amount_is_named_with_its_field(long minor, string text, string field, string problem)
    {
        var error = Assert.Throws<InvalidArgumentException>(() =>
        {
            var validator = new Validator();
            Offered.Amount(validator, "amount", new MoneyInput("EUR", minor, text));
            validator.ThrowIfInvalid();
        });

        Assert.Contains(error.Violations, v => v.Field == field && v.Description == problem);
    }

    [Fact]
    public void A_currency_without_decimals_refuses_a_decimal_point_with_digits()
    {
        var validator = new Validator();

        Offered.Amount(validator, "amount", new MoneyInput("JPY", 0, "100.5"));

        Assert.False(validator.IsValid);
    }

    [Fact]
    public void The_per_transaction_maximum_itself_is_allowed()
    {
        var validator = new Validator();

        var (_, units) = Offered.Amount(validator, "amount", new MoneyInput("EUR", 1_000_000, ""));

        Assert.True(validator.IsValid);
        Assert.Equal(1_000_000, units);
    }

    [Fact]
    public void A_missing_amount_is_required()
    {
        var validator = new Validator();

        Offered.Amount(validator, "amount", null);

        Assert.False(validator.IsValid);
    }

    [Theory]
    [InlineData("eur")]
    [InlineData("EURO")]
    [InlineData("XYZ")]
    [InlineData("")]
    public void A_code_that_is_not_ISO_4217_is_an_invalid_argument(string code)
    {
        var validator = new Validator();

        Assert.Null(Offered.Find(validator, "currency_code", code));
        Assert.False(validator.IsValid);
    }

    [Fact]
    public void An_ISO_4217_currency_the_platform_does_not_move_is_a_failed_precondition_listing_what_it_moves()
    {
        var error = Assert.Throws<FailedPreconditionException>(() => Offered.Find(new Validator(), "currency_code", "SEK"));

        Assert.Equal("CURRENCY_NOT_SUPPORTED", error.Reason);
        Assert.Contains("CHF, EUR, GBP, JPY, USD", error.Message);
    }

    [Fact]
    public void Limits_are_configured_in_major_units_and_kept_in_minor_units()
    {
        Assert.Equal((1_000_000L, 2_500_000L, 1_000L), (Eur.MaxTransaction, Eur.DailyLimit, Eur.LowBalanceThreshold));
        Assert.Equal((1_500_000L, 3_750_000L, 1_000L), (Jpy.MaxTransaction, Jpy.DailyLimit, Jpy.LowBalanceThreshold));
    }

    [Theory]
    [InlineData("EURO", "MaxTransaction", 10, "Finance:Currencies:EURO: not an ISO 4217 currency code")]
    [InlineData("EUR", "MaxTransaction", 0.001, "Finance:Currencies:EUR:MaxTransaction: 0.001 is not a non-negative amount with at most 2 decimals")]
    [InlineData("EUR", "DailyLimit", -1, "Finance:Currencies:EUR:DailyLimit: -1 is not a non-negative amount with at most 2 decimals")]
    [InlineData("JPY", "LowBalanceThreshold", 0.5, "Finance:Currencies:JPY:LowBalanceThreshold: 0.5 is not a non-negative amount with at most 0 decimals")]
    [InlineData("EUR", "MaxTransaction", 0, "Finance:Currencies:EUR:MaxTransaction: must be positive")]
    public void A_bad_currency_setting_is_named_by_its_configuration_key(string code, string setting, double value, string problem)
    {
        var policy = new CurrencyPolicy { MaxTransaction = 10, DailyLimit = 10, LowBalanceThreshold = 1 };
        typeof(CurrencyPolicy).GetProperty(setting)!.SetValue(policy, (decimal)value);
        var options = new FinanceOptions { Currencies = new() { [code] = policy } };

        Assert.Contains(problem, FinanceOptions.Problems(options));
    }

    [Fact]
    public void The_default_settings_have_no_problems()
    {
        Assert.Empty(FinanceOptions.Problems(new FinanceOptions()));
    }

    [Fact]
    public void No_currency_at_all_is_a_problem()
    {
        Assert.Contains("Finance:Currencies: at least one currency is needed", FinanceOptions.Problems(new FinanceOptions { Currencies = [] }));
    }
}
