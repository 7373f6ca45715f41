using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>Retries with an idempotency key: the first answer again, money moved once, also when the retries race.</summary>
public sealed class IdempotencyTests(SharedFinancePlatform platform)
{
    private FinanceService.FinanceServiceClient Finance => platform.FinanceAsAdmin();

    private static Money Eur(long minorUnits) => new() { CurrencyCode = "EUR", MinorUnits = minorUnits };

    private async Task<long> AvailableAsync(string userId) =>
        (await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = userId, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits;

    private Task<long> TransactionsWithKeyAsync(string key) =>
        platform.FinanceScalarAsync<long>("SELECT count(*) FROM service_finance_transaction WHERE idempotency_key = @key", ("key", key));

    [Fact]
    public async Task A_replayed_transfer_returns_the_first_result_and_moves_the_money_once()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 10_00);
        var request = new TransferRequest { IdempotencyKey = Guid.NewGuid().ToString(), FromUserId = from, ToUserId = to, Amount = Eur(3_00) };

        var first = await Finance.TransferAsync(request, cancellationToken: Cancel);
        var replay = await Finance.TransferAsync(request, cancellationToken: Cancel);

        Assert.Equal(first, replay);
        Assert.Equal((7_00L, 3_00L), (await AvailableAsync(from), await AvailableAsync(to)));
        Assert.Equal(1, await TransactionsWithKeyAsync(request.IdempotencyKey));
    }

    [Fact]
    public async Task A_replay_answers_as_the_first_time_even_after_the_hold_it_placed_was_settled()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 10_00);
        var request = new HoldRequest { IdempotencyKey = Guid.NewGuid().ToString(), UserId = user, Amount = Eur(2_00) };
        var hold = await Finance.HoldAsync(request, cancellationToken: Cancel);
        await Finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Guid.NewGuid().ToString(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel);

        var replay = await Finance.HoldAsync(request, cancellationToken: Cancel);

        Assert.Equal(hold, replay);
        Assert.Equal(8_00, await AvailableAsync(user));
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_FailedPrecondition_and_moves_nothing()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 10_00);
        var key = Guid.NewGuid().ToString();
        await Finance.TransferAsync(new TransferRequest { IdempotencyKey = key, FromUserId = from, ToUserId = to, Amount = Eur(1_00) }, cancellationToken: Cancel);

        var error = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.TransferAsync(new TransferRequest { IdempotencyKey = key, FromUserId = from, ToUserId = to, Amount = Eur(2_00) }, cancellationToken: Cancel));
        var otherRpc = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = key, UserId = from, Amount = Eur(1_00) }, cancellationToken: Cancel));

        Assert.Equal(("IDEMPOTENCY_KEY_REUSED", "IDEMPOTENCY_KEY_REUSED"), (Reason(error), Reason(otherRpc)));
        Assert.Equal((9_00L, 1_00L), (await AvailableAsync(from), await AvailableAsync(to)));
    }

    [Fact]
    public async Task A_refused_request_leaves_its_key_unused_so_the_same_request_succeeds_once_it_can()
    {
        var user = await platform.NewUserIdAsync();
        var request = new WithdrawRequest { IdempotencyKey = Guid.NewGuid().ToString(), UserId = user, Amount = Eur(5_00) };
        await FailsAsync(StatusCode.FailedPrecondition, () => Finance.WithdrawAsync(request, cancellationToken: Cancel));

        await platform.FundAsync(user, 5_00);
        var withdrawal = await Finance.WithdrawAsync(request, cancellationToken: Cancel);

        Assert.Equal(TransactionType.Withdrawal, withdrawal.Type);
        Assert.Equal(0, await AvailableAsync(user));
    }

    [Fact]
    public async Task Keys_belong_to_their_caller_so_two_users_may_use_the_same_key()
    {
        var (alice, bob) = (await platform.SignUpAsync(), await platform.SignUpAsync());
        var target = await platform.NewUserIdAsync();
        await platform.FundAsync(alice.Id, 5_00);
        await platform.FundAsync(bob.Id, 5_00);
        var key = Guid.NewGuid().ToString();

        var first = await platform.FinanceClient(alice.AccessToken).TransferAsync(new TransferRequest { IdempotencyKey = key, ToUserId = target, Amount = Eur(1_00) }, cancellationToken: Cancel);
        var second = await platform.FinanceClient(bob.AccessToken).TransferAsync(new TransferRequest { IdempotencyKey = key, ToUserId = target, Amount = Eur(1_00) }, cancellationToken: Cancel);

        Assert.NotEqual(first.TransactionId, second.TransactionId);
        Assert.Equal(2_00, await AvailableAsync(target));
    }

    [Fact]
    public async Task Fifty_concurrent_replays_of_one_transfer_all_get_the_same_answer_and_move_the_money_once()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 10_00);
        var request = new TransferRequest { IdempotencyKey = Guid.NewGuid().ToString(), FromUserId = from, ToUserId = to, Amount = Eur(4_00) };

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Finance.TransferAsync(request, cancellationToken: Cancel).ResponseAsync));

        Assert.Single(answers.Select(a => a.TransactionId).Distinct());
        Assert.All(answers, a => Assert.Equal(answers[0], a));
        Assert.Equal((6_00L, 4_00L), (await AvailableAsync(from), await AvailableAsync(to)));
        Assert.Equal(1, await TransactionsWithKeyAsync(request.IdempotencyKey));
        bool IsItsEvent(Ovasabi.Testing.Sidecars.Received r) =>
            r.Kind == "event" && r.Event.Topic == TopicName.Of(FinanceTopic.TransferCompleted) && r.Event.Data.ToStringUtf8().Contains(answers[0].TransactionId, StringComparison.Ordinal);
        await platform.Subscriber.WaitForAsync(IsItsEvent, timeout: EventTimeout);
        Assert.Single((await platform.Subscriber.SettleAsync(IsItsEvent, Settle)).Select(r => r.Event.Id).Distinct());
    }
}
