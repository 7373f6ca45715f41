using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>Each movement's happy path and its refusals, through the finance app's sidecar as a trusted service.</summary>
public sealed class MovementTests(SharedFinancePlatform platform)
{
    private FinanceService.FinanceServiceClient Finance => platform.FinanceAsAdmin();

    private static Money Eur(long minorUnits) => new() { CurrencyCode = "EUR", MinorUnits = minorUnits };

    private static string Key() => Guid.NewGuid().ToString();

    private async Task<(long Available, long Held)> BalanceAsync(string userId, string currency = "EUR")
    {
        var balance = await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = userId, CurrencyCode = currency }, cancellationToken: Cancel);
        return (balance.Available.MinorUnits, balance.Held.MinorUnits);
    }

    private Task<MovementCompleted> EventAsync(string topic, string transactionId) =>
        platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == topic && r.Event.Data.ToStringUtf8().Contains(transactionId, StringComparison.Ordinal), timeout: EventTimeout)
            .ContinueWith(t => MovementCompleted.Parser.ParseJson(t.Result[0].Event.Data.ToStringUtf8()), TaskScheduler.Default);

    [Fact]
    public async Task A_user_without_an_account_has_a_zero_balance_in_both_forms()
    {
        var user = await platform.NewUserIdAsync();

        var balance = await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "JPY" }, cancellationToken: Cancel);

        Assert.Equal(new Money { CurrencyCode = "JPY", MinorUnits = 0, DecimalAmount = "0" }, balance.Available);
        Assert.Equal(new Money { CurrencyCode = "JPY", MinorUnits = 0, DecimalAmount = "0" }, balance.Held);
    }

    [Fact]
    public async Task A_deposit_credits_the_available_balance_and_is_announced()
    {
        var user = await platform.NewUserIdAsync();

        var deposit = await Finance.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(12_34), Description = "top-up" }, cancellationToken: Cancel);

        Assert.Equal((TransactionType.Deposit, TransactionStatus.Completed, user, "top-up"), (deposit.Type, deposit.Status, deposit.UserId, deposit.Description));
        Assert.Equal(new Money { CurrencyCode = "EUR", MinorUnits = 1234, DecimalAmount = "12.34" }, deposit.Amount);
        Assert.Equal((1234L, 0L), await BalanceAsync(user));
        var announced = await EventAsync(TopicName.Of(FinanceTopic.DepositCompleted), deposit.TransactionId);
        Assert.Equal((user, 1234L), (announced.UserId, announced.Amount.MinorUnits));
    }

    [Fact]
    public async Task A_deposit_given_as_a_decimal_amount_is_the_same_as_in_minor_units()
    {
        var user = await platform.NewUserIdAsync();

        var deposit = await Finance.DepositAsync(new DepositRequest
        {
            IdempotencyKey = Key(), UserId = user, Amount = new Money { CurrencyCode = "EUR", DecimalAmount = "7.5" },
        }, cancellationToken: Cancel);

        Assert.Equal(750, deposit.Amount.MinorUnits);
        Assert.Equal((750L, 0L), await BalanceAsync(user));
    }

    [Fact]
    public async Task A_withdrawal_debits_the_available_balance_and_is_announced()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 10_00);

        var withdrawal = await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(4_00) }, cancellationToken: Cancel);

        Assert.Equal(TransactionType.Withdrawal, withdrawal.Type);
        Assert.Equal((6_00L, 0L), await BalanceAsync(user));
        await EventAsync(TopicName.Of(FinanceTopic.WithdrawalCompleted), withdrawal.TransactionId);
    }

    [Fact]
    public async Task Withdrawing_more_than_is_available_is_FailedPrecondition_and_moves_nothing()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 5_00);

        var error = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(5_01) }, cancellationToken: Cancel));

        Assert.Equal("INSUFFICIENT_FUNDS", Reason(error));
        Assert.Equal((5_00L, 0L), await BalanceAsync(user));
    }

    [Fact]
    public async Task A_transfer_moves_money_from_one_user_to_another_and_is_announced_with_both()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 20_00);

        var transfer = await Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = from, ToUserId = to, Amount = Eur(7_50), Description = "rent" }, cancellationToken: Cancel);

        Assert.Equal((TransactionType.Transfer, from, to), (transfer.Type, transfer.UserId, transfer.CounterpartyUserId));
        Assert.Equal((12_50L, 0L), await BalanceAsync(from));
        Assert.Equal((7_50L, 0L), await BalanceAsync(to));
        var announced = await EventAsync(TopicName.Of(FinanceTopic.TransferCompleted), transfer.TransactionId);
        Assert.Equal((from, to, 750L), (announced.UserId, announced.CounterpartyUserId, announced.Amount.MinorUnits));
    }

    [Fact]
    public async Task A_transfer_larger_than_the_sender_has_is_FailedPrecondition_and_moves_nothing_on_either_side()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 1_00);
        await platform.FundAsync(to, 2_00);

        var error = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = from, ToUserId = to, Amount = Eur(1_01) }, cancellationToken: Cancel));

        Assert.Equal("INSUFFICIENT_FUNDS", Reason(error));
        Assert.Equal((1_00L, 0L), await BalanceAsync(from));
        Assert.Equal((2_00L, 0L), await BalanceAsync(to));
    }

    [Fact]
    public async Task A_hold_sets_money_aside_and_a_release_gives_it_back_once()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 10_00);

        var hold = await Finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(3_00), Description = "quote 42" }, cancellationToken: Cancel);
        Assert.Equal((7_00L, 3_00L), await BalanceAsync(user));
        await EventAsync(TopicName.Of(FinanceTopic.HoldPlaced), hold.TransactionId);

        var release = await Finance.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel);

        Assert.Equal((TransactionType.Release, hold.TransactionId), (release.Type, release.RelatedTransactionId));
        Assert.Equal((10_00L, 0L), await BalanceAsync(user));
        Assert.Equal(TransactionStatus.Settled, (await Finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = hold.TransactionId }, cancellationToken: Cancel)).Status);
        await EventAsync(TopicName.Of(FinanceTopic.HoldReleased), release.TransactionId);
        var again = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel));
        Assert.Equal("HOLD_SETTLED", Reason(again));
        await FailsAsync(StatusCode.FailedPrecondition, () => Finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel));
        Assert.Equal((10_00L, 0L), await BalanceAsync(user));
    }

    [Fact]
    public async Task A_capture_takes_the_held_money_for_the_platform_once()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 10_00);
        var hold = await Finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(4_00) }, cancellationToken: Cancel);

        var capture = await Finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel);

        Assert.Equal((TransactionType.Capture, 400L), (capture.Type, capture.Amount.MinorUnits));
        Assert.Equal((6_00L, 0L), await BalanceAsync(user));
        await EventAsync(TopicName.Of(FinanceTopic.HoldCaptured), capture.TransactionId);
        await FailsAsync(StatusCode.FailedPrecondition, () => Finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.FailedPrecondition, () => Finance.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task Holding_more_than_is_available_is_FailedPrecondition()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 1_00);

        await FailsAsync(StatusCode.FailedPrecondition, () => Finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(1_01) }, cancellationToken: Cancel));
        Assert.Equal((1_00L, 0L), await BalanceAsync(user));
    }

    [Fact]
    public async Task Releasing_or_capturing_what_is_not_a_hold_is_FailedPrecondition_and_an_unknown_one_NotFound()
    {
        var user = await platform.NewUserIdAsync();
        var deposit = await platform.FundAsync(user, 1_00);

        var error = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key(), HoldTransactionId = deposit.TransactionId }, cancellationToken: Cancel));
        Assert.Equal("NOT_A_HOLD", Reason(error));
        await FailsAsync(StatusCode.NotFound, () => Finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = Guid.NewGuid().ToString() }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_reversed_transfer_moves_the_money_back_and_cannot_be_reversed_twice()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 10_00);
        var transfer = await Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = from, ToUserId = to, Amount = Eur(6_00) }, cancellationToken: Cancel);
        var admin = platform.FinanceClient(platform.Admin.AccessToken);

        var reversal = await admin.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = transfer.TransactionId, Reason = "sent by mistake" }, cancellationToken: Cancel);

        Assert.Equal((TransactionType.Reversal, transfer.TransactionId, "sent by mistake"), (reversal.Type, reversal.RelatedTransactionId, reversal.Description));
        Assert.Equal((10_00L, 0L), await BalanceAsync(from));
        Assert.Equal((0L, 0L), await BalanceAsync(to));
        Assert.Equal(TransactionStatus.Reversed, (await Finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = transfer.TransactionId }, cancellationToken: Cancel)).Status);
        await EventAsync(TopicName.Of(FinanceTopic.TransactionReversed), reversal.TransactionId);
        var again = await FailsAsync(StatusCode.FailedPrecondition, () => admin.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = transfer.TransactionId }, cancellationToken: Cancel));
        Assert.Equal("ALREADY_REVERSED", Reason(again));
    }

    [Fact]
    public async Task Reversing_a_transfer_the_receiver_already_spent_is_FailedPrecondition_and_moves_nothing()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 10_00);
        var transfer = await Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = from, ToUserId = to, Amount = Eur(6_00) }, cancellationToken: Cancel);
        await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = to, Amount = Eur(5_00) }, cancellationToken: Cancel);

        var error = await FailsAsync(StatusCode.FailedPrecondition, () => platform.FinanceClient(platform.Admin.AccessToken)
            .ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = transfer.TransactionId }, cancellationToken: Cancel));

        Assert.Equal("INSUFFICIENT_FUNDS", Reason(error));
        Assert.Equal((4_00L, 0L), await BalanceAsync(from));
        Assert.Equal((1_00L, 0L), await BalanceAsync(to));
        Assert.Equal(TransactionStatus.Completed, (await Finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = transfer.TransactionId }, cancellationToken: Cancel)).Status);
    }

    [Fact]
    public async Task Reversing_a_deposit_takes_it_back_and_reversing_a_withdrawal_returns_it()
    {
        var user = await platform.NewUserIdAsync();
        var deposit = await platform.FundAsync(user, 10_00);
        var withdrawal = await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(3_00) }, cancellationToken: Cancel);
        var admin = platform.FinanceClient(platform.Admin.AccessToken);

        await admin.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = withdrawal.TransactionId }, cancellationToken: Cancel);
        Assert.Equal((10_00L, 0L), await BalanceAsync(user));
        await admin.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = deposit.TransactionId }, cancellationToken: Cancel);

        Assert.Equal((0L, 0L), await BalanceAsync(user));
    }

    [Fact]
    public async Task Holds_releases_captures_and_reversals_themselves_cannot_be_reversed()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 10_00);
        var hold = await Finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(1_00) }, cancellationToken: Cancel);

        var error = await FailsAsync(StatusCode.FailedPrecondition, () => platform.FinanceClient(platform.Admin.AccessToken)
            .ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = hold.TransactionId }, cancellationToken: Cancel));

        Assert.Equal("NOT_REVERSIBLE", Reason(error));
    }

    [Fact]
    public async Task Falling_below_the_low_balance_threshold_is_announced_once_not_again_while_below()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 15_00);

        await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(6_00) }, cancellationToken: Cancel);
        await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(1_00) }, cancellationToken: Cancel);

        var low = await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(FinanceTopic.BalanceLow) && r.Event.Data.ToStringUtf8().Contains(user, StringComparison.Ordinal), timeout: EventTimeout);
        var payload = BalanceLow.Parser.ParseJson(low[0].Event.Data.ToStringUtf8());
        Assert.Equal(("9.00", "10.00"), (payload.Available.DecimalAmount, payload.Threshold.DecimalAmount));
        Assert.Single(await platform.Subscriber.SettleAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(FinanceTopic.BalanceLow) && r.Event.Data.ToStringUtf8().Contains(user, StringComparison.Ordinal), Settle));
    }
}
