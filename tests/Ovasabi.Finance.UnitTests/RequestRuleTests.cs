using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Finance.UnitTests;

/// <summary>Idempotency keys, descriptions, the daily window and listing limits.</summary>
public sealed class RequestRuleTests
{
    [Theory]
    [InlineData("0190c5a0-0000-7000-8000-00000000000a")]
    [InlineData("order-42/attempt")]
    [InlineData("~")]
    public void An_idempotency_key_is_printable_ASCII_without_spaces(string key)
    {
        Assert.True(new Validator().IdempotencyKey("idempotency_key", key).IsValid);
    }

    [Theory]
    [InlineData("")]
    [InlineData("two words")]
    [InlineData("tab\there")]
    [InlineData("clé")]
    [InlineData("\u007f")]
    public void Other_idempotency_keys_are_refused(string key)
    {
        Assert.False(new Validator().IdempotencyKey("idempotency_key", key).IsValid);
    }

    [Fact]
    public void An_idempotency_key_is_at_most_128_characters()
    {
        Assert.True(new Validator().IdempotencyKey("k", new string('a', 128)).IsValid);
        Assert.False(new Validator().IdempotencyKey("k", new string('a', 129)).IsValid);
    }

    [Fact]
    public void A_description_is_at_most_500_characters()
    {
        Assert.True(new Validator().Description("description", new string('d', 500)).IsValid);
        Assert.False(new Validator().Description("description", new string('d', 501)).IsValid);
    }

    [Fact]
    public void A_transfer_to_oneself_is_refused_but_only_once_both_ids_are_valid()
    {
        var ada = Guid.CreateVersion7();

        Assert.False(new Validator().DistinctParties("to_user_id", ada, ada, "from_user_id").IsValid);
        Assert.True(new Validator().DistinctParties("to_user_id", Guid.Empty, Guid.Empty, "from_user_id").IsValid);
        Assert.True(new Validator().DistinctParties("to_user_id", ada, Guid.CreateVersion7(), "from_user_id").IsValid);
    }

    [Fact]
    public void The_same_request_has_the_same_fingerprint_and_another_operation_or_body_does_not()
    {
        var body = "amount=5"u8.ToArray();

        var first = Idempotency.Fingerprint("/ovasabi.finance.v1.FinanceService/Deposit", body);

        Assert.Equal(first, Idempotency.Fingerprint("/ovasabi.finance.v1.FinanceService/Deposit", body));
        Assert.NotEqual(first, Idempotency.Fingerprint("/ovasabi.finance.v1.FinanceService/Withdraw", body));
        Assert.NotEqual(first, Idempotency.Fingerprint("/ovasabi.finance.v1.FinanceService/Deposit", "amount=6"u8));
    }

    [Fact]
    public void A_key_used_for_another_request_is_refused_and_the_key_is_quoted_short()
    {
        var key = new string('k', 128);

        var error = Assert.Throws<FailedPreconditionException>(() => Idempotency.EnsureSameRequest([1, 2], [1, 3], key));

        Assert.Equal("IDEMPOTENCY_KEY_REUSED", error.Reason);
        Assert.DoesNotContain(key, error.Message);
        Idempotency.EnsureSameRequest([1, 2], [1, 2], key);
    }

    [Fact]
    public void The_daily_limit_counts_from_midnight_UTC_whatever_the_offset()
    {
        var evening = new DateTimeOffset(2026, 12, 7, 23, 30, 0, TimeSpan.FromHours(-5));

        Assert.Equal(new DateOnly(2026, 12, 8), DailyLimit.Day(evening));
    }

    [Fact]
    public void A_daily_total_starts_again_on_a_new_day_and_counts_nothing_of_another_day()
    {
        var monday = new DateOnly(2026, 12, 7);
        var total = new DailyTotal(null, 0).Add(monday, 300).Add(monday, 200);

        Assert.Equal(500, total.On(monday));
        Assert.Equal(0, total.On(monday.AddDays(1)));
        Assert.Equal(new DailyTotal(monday.AddDays(1), 70), total.Add(monday.AddDays(1), 70));
    }

    [Theory]
    [InlineData(0, 20)]
    [InlineData(1, 1)]
    [InlineData(100, 100)]
    public void A_page_size_of_zero_means_the_default(int asked, int size)
    {
        var validator = new Validator();

        Assert.Equal(size, HistoryRules.PageSize(validator, "page.page_size", asked));
        Assert.True(validator.IsValid);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void A_page_size_out_of_range_is_refused(int asked)
    {
        var validator = new Validator();

        HistoryRules.PageSize(validator, "page.page_size", asked);

        Assert.False(validator.IsValid);
    }

    [Fact]
    public void A_statement_period_is_required_ordered_and_at_most_366_days()
    {
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.True(new Validator().Period("s", start, "e", start.AddDays(366), statement: true).IsValid);
        Assert.False(new Validator().Period("s", start, "e", start.AddDays(366).AddTicks(1), statement: true).IsValid);
        Assert.False(new Validator().Period("s", start, "e", start, statement: true).IsValid);
        Assert.False(new Validator().Period("s", null, "e", start, statement: true).IsValid);
    }

    [Fact]
    public void A_listing_period_may_be_open_or_long_but_not_reversed()
    {
        var start = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

        Assert.True(new Validator().Period("a", null, "b", null, statement: false).IsValid);
        Assert.True(new Validator().Period("a", start, "b", start.AddYears(5), statement: false).IsValid);
        Assert.False(new Validator().Period("a", start, "b", start.AddDays(-1), statement: false).IsValid);
    }

    [Fact]
    public void A_statement_of_more_than_10000_transactions_is_refused()
    {
        HistoryRules.EnsureStatementSize(10_000);

        Assert.Equal("STATEMENT_TOO_LARGE", Assert.Throws<FailedPreconditionException>(() => HistoryRules.EnsureStatementSize(10_001)).Reason);
    }

    [Fact]
    public void A_page_token_is_bound_to_every_part_of_the_filter()
    {
        var user = Guid.CreateVersion7();
        var filter = new TransactionFilter(user, "EUR", [TransactionKind.Deposit], [TransactionState.Completed], null, null);

        var variants = new[]
        {
            filter with { Currency = "USD" },
            filter with { Kinds = [TransactionKind.Withdrawal] },
            filter with { States = [TransactionState.Reversed] },
            filter with { CreatedAfter = DateTimeOffset.UnixEpoch },
            filter with { CreatedBefore = DateTimeOffset.UnixEpoch },
            filter with { UserId = Guid.CreateVersion7() },
        };

        Assert.All(variants, variant => Assert.NotEqual(filter.Fingerprint(), variant.Fingerprint()));
    }
}
