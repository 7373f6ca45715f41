using Ovasabi.Finance.Domain;
using Ovasabi.ServiceDefaults.Grpc;
using static Ovasabi.Finance.UnitTests.Money;

namespace Ovasabi.Finance.UnitTests;

/// <summary>What each money movement locks, checks and posts.</summary>
public sealed class MovementTests
{
    [Fact]
    public void A_deposit_locks_the_users_account_checks_the_user_and_credits_them()
    {
        var deposit = new Deposit(Ada, Eur, 500, "salary");
        var book = Book(adaAvailable: 0);

        var plan = deposit.Plan(Offered, null);
        var posted = deposit.Post(book, null, sentToday: 0);

        Assert.Equal([Ada], plan.Accounts);
        Assert.Equal((Eur, true, (Guid?)null), (plan.Currency, plan.UsersMustBeActive, plan.DailyTotalOf));
        Assert.Equal(new Posted(TransactionKind.Deposit, Ada, 500, "salary"), posted);
        Assert.Equal(500, book.After[Ada].Available);
    }

    [Fact]
    public void A_withdrawal_counts_against_the_users_daily_limit()
    {
        var withdrawal = new Withdrawal(Ada, Eur, 100, "");

        Assert.Equal(Ada, withdrawal.Plan(Offered, null).DailyTotalOf);
        var error = Assert.Throws<ResourceExhaustedException>(() => withdrawal.Post(Book(adaAvailable: 1000), null, sentToday: Eur.DailyLimit - 99));
        Assert.Equal("DAILY_LIMIT_EXCEEDED", error.Reason);
        Assert.Equal("the daily limit of 25000.00 EUR would be exceeded: 24999.01 sent today, 1.00 more asked", error.Message);
    }

    [Fact]
    public void A_withdrawal_up_to_exactly_the_daily_limit_is_allowed()
    {
        var book = Book(adaAvailable: 1000);

        new Withdrawal(Ada, Eur, 100, "").Post(book, null, sentToday: Eur.DailyLimit - 100);

        Assert.Equal(900, book.After[Ada].Available);
    }

    [Fact]
    public void The_daily_limit_is_checked_before_the_balance()
    {
        // Both would fail: the limit is what the caller is told, since waiting for money would not help.
        Assert.Throws<ResourceExhaustedException>(() => new Withdrawal(Ada, Eur, 100, "").Post(Book(adaAvailable: 0), null, sentToday: Eur.DailyLimit));
    }

    [Fact]
    public void A_transfer_locks_both_accounts_counts_for_the_sender_and_names_the_receiver()
    {
        var transfer = new Transfer(Ada, Bob, Eur, 300, "rent");
        var book = Book(adaAvailable: 1000);

        var plan = transfer.Plan(Offered, null);
        var posted = transfer.Post(book, null, sentToday: 0);

        Assert.Equal([Ada, Bob], plan.Accounts);
        Assert.Equal(Ada, plan.DailyTotalOf);
        Assert.Equal(new Posted(TransactionKind.Transfer, Ada, 300, "rent", CounterpartyUserId: Bob), posted);
        Assert.Equal((700L, 300L), (book.After[Ada].Available, book.After[Bob].Available));
    }

    [Fact]
    public void A_transfer_of_more_than_the_sender_has_is_insufficient_funds()
    {
        Assert.Throws<FailedPreconditionException>(() => new Transfer(Ada, Bob, Eur, 1001, "").Post(Book(adaAvailable: 1000), null, 0));
    }

    [Fact]
    public void A_hold_moves_available_money_to_held_without_a_daily_limit()
    {
        var hold = new Hold(Ada, Eur, 400, "booking");
        var book = Book(adaAvailable: 1000);

        Assert.Null(hold.Plan(Offered, null).DailyTotalOf);
        hold.Post(book, null, sentToday: long.MaxValue / 2);

        Assert.Equal(new Balances(600, 400), book.After[Ada]);
    }

    [Theory]
    [InlineData(false, TransactionKind.Release, 400, 0)]
    [InlineData(true, TransactionKind.Capture, 0, 0)]
    public void Settling_a_hold_releases_or_captures_it_and_marks_it_settled(bool capture, TransactionKind kind, long available, long held)
    {
        var hold = Recorded(TransactionKind.Hold, 400);
        var settlement = new Settlement(hold.Id, capture);
        var book = Book(adaAvailable: 0, adaHeld: 400);

        var plan = settlement.Plan(Offered, hold);
        var posted = settlement.Post(book, hold, 0);

        Assert.Equal([Ada], plan.Accounts);
        Assert.False(plan.UsersMustBeActive);
        Assert.Equal(new Posted(kind, Ada, 400, "", TargetBecomes: TransactionState.Settled), posted);
        Assert.Equal(new Balances(available, held), book.After[Ada]);
    }

    [Fact]
    public void Settling_a_transaction_that_is_not_a_hold_is_refused_before_anything_is_locked()
    {
        var deposit = Recorded(TransactionKind.Deposit, 400);

        var error = Assert.Throws<FailedPreconditionException>(() => new Settlement(deposit.Id, Capture: true).Plan(Offered, deposit));

        Assert.Equal("NOT_A_HOLD", error.Reason);
        Assert.Equal($"transaction {deposit.Id} is a deposit, not a hold", error.Message);
    }

    [Fact]
    public void A_hold_is_settled_once()
    {
        var settled = Recorded(TransactionKind.Hold, 400, TransactionState.Settled);

        var error = Assert.Throws<FailedPreconditionException>(() => new Settlement(settled.Id, Capture: false).Post(Book(0, adaHeld: 400), settled, 0));

        Assert.Equal("HOLD_SETTLED", error.Reason);
    }

    [Fact]
    public void Settling_a_hold_in_a_currency_no_longer_offered_is_refused()
    {
        var hold = Recorded(TransactionKind.Hold, 400, currency: "SEK");

        var error = Assert.Throws<FailedPreconditionException>(() => new Settlement(hold.Id, Capture: false).Plan(Offered, hold));

        Assert.Equal("CURRENCY_NOT_SUPPORTED", error.Reason);
    }

    [Fact]
    public void Reversing_a_deposit_takes_the_money_back_out()
    {
        var deposit = Recorded(TransactionKind.Deposit, 500);
        var book = Book(adaAvailable: 500);

        var posted = new Reversal(deposit.Id, "chargeback").Post(book, deposit, 0);

        Assert.Equal(new Posted(TransactionKind.Reversal, Ada, 500, "chargeback", null, TransactionState.Reversed), posted);
        Assert.Equal(0, book.After[Ada].Available);
    }

    [Fact]
    public void Reversing_a_deposit_already_spent_is_insufficient_funds()
    {
        var deposit = Recorded(TransactionKind.Deposit, 500);

        Assert.Throws<FailedPreconditionException>(() => new Reversal(deposit.Id, "").Post(Book(adaAvailable: 100), deposit, 0));
    }

    [Fact]
    public void Reversing_a_withdrawal_pays_the_money_back_in()
    {
        var withdrawal = Recorded(TransactionKind.Withdrawal, 500);
        var book = Book(adaAvailable: 0);

        new Reversal(withdrawal.Id, "").Post(book, withdrawal, 0);

        Assert.Equal(500, book.After[Ada].Available);
    }

    [Fact]
    public void Reversing_a_transfer_moves_the_money_back_from_the_receiver_and_locks_both()
    {
        var transfer = Recorded(TransactionKind.Transfer, 300, counterparty: Bob);
        var reversal = new Reversal(transfer.Id, "fraud");
        var book = Book(adaAvailable: 0, bobAvailable: 300);

        var plan = reversal.Plan(Offered, transfer);
        var posted = reversal.Post(book, transfer, 0);

        Assert.Equal([Ada, Bob], plan.Accounts);
        Assert.Equal(Bob, posted.CounterpartyUserId);
        Assert.Equal((300L, 0L), (book.After[Ada].Available, book.After[Bob].Available));
    }

    [Theory]
    [InlineData(TransactionKind.Hold)]
    [InlineData(TransactionKind.Release)]
    [InlineData(TransactionKind.Capture)]
    [InlineData(TransactionKind.Reversal)]
    public void Only_deposits_withdrawals_and_transfers_can_be_reversed(TransactionKind kind)
    {
        var original = Recorded(kind, 100);

        var error = Assert.Throws<FailedPreconditionException>(() => new Reversal(original.Id, "").Plan(Offered, original));

        Assert.Equal("NOT_REVERSIBLE", error.Reason);
    }

    [Fact]
    public void A_transaction_is_reversed_once()
    {
        var reversed = Recorded(TransactionKind.Deposit, 100, TransactionState.Reversed);

        var error = Assert.Throws<FailedPreconditionException>(() => new Reversal(reversed.Id, "").Post(Book(adaAvailable: 100), reversed, 0));

        Assert.Equal(("ALREADY_REVERSED", $"transaction {reversed.Id} is already reversed"), (error.Reason, error.Message));
    }

    [Fact]
    public void Acting_on_a_transaction_that_was_not_found_is_not_found()
    {
        Assert.Throws<NotFoundException>(() => new Reversal(Guid.CreateVersion7(), "").Plan(Offered, null));
        Assert.Throws<NotFoundException>(() => new Settlement(Guid.CreateVersion7(), false).Plan(Offered, null));
    }

    [Fact]
    public void Money_movements_name_no_target_and_settlements_and_reversals_do()
    {
        var id = Guid.CreateVersion7();

        Assert.Equal([null, null, null, null, id, id],
            new Movement[] { new Deposit(Ada, Eur, 1, ""), new Withdrawal(Ada, Eur, 1, ""), new Transfer(Ada, Bob, Eur, 1, ""), new Hold(Ada, Eur, 1, ""),
                new Settlement(id, false), new Reversal(id, "") }.Select(m => m.TargetId));
    }

    [Fact]
    public void A_transfer_adds_to_the_senders_day_and_its_reversal_takes_it_off_only_that_day()
    {
        var now = new DateTimeOffset(2026, 12, 7, 15, 0, 0, TimeSpan.Zero);
        var transfer = new Transfer(Ada, Bob, Eur, 400, "");
        var totals = new Dictionary<Guid, DailyTotal> { [Ada] = new(DailyLimit.Day(now), 100), [Bob] = new(null, 0) };

        var sent = DailyLimit.Changes(transfer.Plan(Offered, null), transfer.Post(Book(adaAvailable: 1_000), null, 100), null, now, totals).ToList();
        Assert.Equal([(Ada, new DailyTotal(DailyLimit.Day(now), 500))], sent);

        totals[Ada] = sent[0].Total;
        var original = new TransactionView(Guid.NewGuid(), TransactionKind.Transfer, TransactionState.Completed, "EUR", 400, Ada, Bob, null, "k", "", now);
        var reversal = new Reversal(original.Id, "mistake");
        var posted = reversal.Post(Book(adaAvailable: 600, bobAvailable: 400), original, 0);

        Assert.Equal([(Ada, new DailyTotal(DailyLimit.Day(now), 100))],
            DailyLimit.Changes(reversal.Plan(Offered, original), posted, original, now.AddHours(1), totals).ToList());
        Assert.Equal([(Ada, totals[Ada])],
            DailyLimit.Changes(reversal.Plan(Offered, original), posted, original with { CreatedAt = now.AddDays(-1) }, now, totals).ToList());
    }

    [Fact]
    public void Each_movement_names_before_it_posts_the_kind_its_posting_records()
    {
        var hold = Recorded(TransactionKind.Hold, 100);
        var transfer = Recorded(TransactionKind.Transfer, 100, counterparty: Bob);
        (Movement Movement, TransactionView? Target, Book Book)[] cases =
        [
            (new Deposit(Ada, Eur, 100, ""), null, Book(adaAvailable: 0)),
            (new Withdrawal(Ada, Eur, 100, ""), null, Book(adaAvailable: 500)),
            (new Transfer(Ada, Bob, Eur, 100, ""), null, Book(adaAvailable: 500)),
            (new Hold(Ada, Eur, 100, ""), null, Book(adaAvailable: 500)),
            (new Settlement(hold.Id, Capture: true), hold, Book(adaAvailable: 0, adaHeld: 100)),
            (new Settlement(hold.Id, Capture: false), hold, Book(adaAvailable: 0, adaHeld: 100)),
            (new Reversal(transfer.Id, "mistake"), transfer, Book(adaAvailable: 0, bobAvailable: 100)),
        ];

        Assert.All(cases, c => Assert.Equal(c.Movement.Kind, c.Movement.Post(c.Book, c.Target, sentToday: 0).Kind));
    }
}
