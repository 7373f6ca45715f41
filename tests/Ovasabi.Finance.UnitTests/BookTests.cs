using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Grpc;
using static Ovasabi.Finance.UnitTests.Money;

namespace Ovasabi.Finance.UnitTests;

/// <summary>Double entry: every move writes two entries summing to zero, and no user balance goes below zero.</summary>
public sealed class BookTests
{
    [Fact]
    public void Money_from_outside_credits_available_and_debits_the_external_account()
    {
        var book = Book(adaAvailable: 0);

        book.FromOutside(Ada, 500);

        Assert.Equal(new Balances(500, 0), book.After[Ada]);
        Assert.Equal([new Entry(Party.External, -500), new Entry(Party.User(Ada, Bucket.Available), 500)], book.Entries);
    }

    [Fact]
    public void Money_to_outside_debits_available_and_credits_the_external_account()
    {
        var book = Book(adaAvailable: 800);

        book.ToOutside(Ada, 300);

        Assert.Equal(new Balances(500, 0), book.After[Ada]);
        Assert.Equal([new Entry(Party.User(Ada, Bucket.Available), -300), new Entry(Party.External, 300)], book.Entries);
    }

    [Fact]
    public void A_move_between_users_changes_both_and_the_entries_balance()
    {
        var book = Book(adaAvailable: 1000, bobAvailable: 10);

        book.Between(Ada, Bucket.Available, Bob, Bucket.Available, 250);

        Assert.Equal((new Balances(750, 0), new Balances(260, 0)), (book.After[Ada], book.After[Bob]));
        Assert.Equal(0, book.Entries.Sum(e => e.Amount));
    }

    [Fact]
    public void A_move_between_buckets_of_one_account_keeps_its_total()
    {
        var book = Book(adaAvailable: 1000);

        book.Between(Ada, Bucket.Available, Ada, Bucket.Held, 400);

        Assert.Equal(new Balances(600, 400), book.After[Ada]);
    }

    [Fact]
    public void Captured_money_goes_from_held_to_revenue()
    {
        var book = Book(adaAvailable: 0, adaHeld: 400);

        book.ToRevenue(Ada, 400);

        Assert.Equal(new Balances(0, 0), book.After[Ada]);
        Assert.Contains(new Entry(Party.Revenue, 400), book.Entries);
    }

    [Fact]
    public void Spending_more_than_is_available_is_insufficient_funds_and_changes_nothing()
    {
        var book = Book(adaAvailable: 99);

        var error = Assert.Throws<FailedPreconditionException>(() => book.ToOutside(Ada, 100));

        Assert.Equal("INSUFFICIENT_FUNDS", error.Reason);
        Assert.Equal("insufficient funds: 0.99 EUR available, 1.00 needed", error.Message);
        Assert.Equal(new Balances(99, 0), book.After[Ada]);
        Assert.Empty(book.Entries);
    }

    [Fact]
    public void Spending_exactly_what_is_available_leaves_zero()
    {
        var book = Book(adaAvailable: 100);

        book.ToOutside(Ada, 100);

        Assert.Equal(new Balances(0, 0), book.After[Ada]);
    }

    [Fact]
    public void Releasing_more_than_is_held_is_insufficient_held_funds()
    {
        var book = Book(adaAvailable: 1000, adaHeld: 50);

        var error = Assert.Throws<FailedPreconditionException>(() => book.Between(Ada, Bucket.Held, Ada, Bucket.Available, 51));

        Assert.Equal("INSUFFICIENT_HELD_FUNDS", error.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void A_move_of_nothing_or_less_is_a_bug(long amount)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Book(adaAvailable: 100).FromOutside(Ada, amount));
    }

    [Fact]
    public void A_user_whose_account_is_not_locked_cannot_be_moved()
    {
        var book = new Book(Eur, new Dictionary<Guid, Balances> { [Ada] = new(100, 0) });

        Assert.Throws<InvalidOperationException>(() => book.Between(Ada, Bucket.Available, Bob, Bucket.Available, 10));
    }

    [Fact]
    public void The_book_remembers_the_balances_before_for_the_audit()
    {
        var book = Book(adaAvailable: 100);

        book.ToOutside(Ada, 40);

        Assert.Equal((new Balances(100, 0), new Balances(60, 0)), (book.Before[Ada], book.After[Ada]));
        Assert.True(book.Changed(Ada));
        Assert.False(book.Changed(Bob));
    }

    [Fact]
    public void Falling_below_the_low_balance_threshold_is_noticed_once()
    {
        var book = Book(adaAvailable: 1500, bobAvailable: 500);

        book.ToOutside(Ada, 600);
        book.ToOutside(Bob, 100);

        // Ada went from 15.00 to 9.00 (threshold 10.00); Bob was below it already.
        Assert.Equal([Ada], book.FellBelowThreshold());
    }

    [Fact]
    public void Landing_exactly_on_the_threshold_is_not_below_it()
    {
        var book = Book(adaAvailable: 1500);

        book.ToOutside(Ada, 500);

        Assert.Empty(book.FellBelowThreshold());
    }

    [Fact]
    public void A_threshold_of_zero_turns_the_notice_off()
    {
        var currency = Eur with { LowBalanceThreshold = 0 };
        var book = Book(adaAvailable: 1500, currency: currency);

        book.ToOutside(Ada, 1500);

        Assert.Empty(book.FellBelowThreshold());
    }
}
