using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>
/// Who may move and see whose money: users their own (no deposits to themselves), support reads everything,
/// administrators post and reverse for anyone, no other app may touch money (the access table grants none), nobody
/// anonymous.
/// </summary>
public sealed class AccessTests(SharedFinancePlatform platform)
{
    private static Money Eur(long minorUnits) => new() { CurrencyCode = "EUR", MinorUnits = minorUnits };

    private static string Key() => Guid.NewGuid().ToString();

    [Fact]
    public async Task A_user_transfers_and_withdraws_their_own_money_and_reads_their_own_balance_and_history()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.NewUserIdAsync();
        await platform.FundAsync(user.Id, 10_00);
        var finance = platform.FinanceClient(user.AccessToken);

        var transfer = await finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), ToUserId = other, Amount = Eur(2_00) }, cancellationToken: Cancel);
        await finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), Amount = Eur(1_00) }, cancellationToken: Cancel);

        Assert.Equal(user.Id, transfer.UserId);
        Assert.Equal(7_00, (await finance.GetBalanceAsync(new GetBalanceRequest { CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
        Assert.Equal(3, (await finance.ListTransactionsAsync(new ListTransactionsRequest(), cancellationToken: Cancel)).Transactions.Count);
        Assert.Equal(transfer, await finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = transfer.TransactionId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task The_receiver_of_a_transfer_sees_it_too()
    {
        var (sender, receiver) = (await platform.NewUserIdAsync(), await platform.SignUpAsync());
        await platform.FundAsync(sender, 5_00);
        var transfer = await platform.FinanceAsAdmin().TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = sender, ToUserId = receiver.Id, Amount = Eur(1_00) }, cancellationToken: Cancel);
        var finance = platform.FinanceClient(receiver.AccessToken);

        Assert.Equal(transfer, await finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = transfer.TransactionId }, cancellationToken: Cancel));
        Assert.Equal([transfer], (await finance.ListTransactionsAsync(new ListTransactionsRequest(), cancellationToken: Cancel)).Transactions);
    }

    [Fact]
    public async Task A_user_may_not_touch_another_users_money_and_does_not_learn_their_transactions_exist()
    {
        var (user, victim) = (await platform.SignUpAsync(), await platform.NewUserIdAsync());
        var deposit = await platform.FundAsync(victim, 10_00);
        var finance = platform.FinanceClient(user.AccessToken);

        await FailsAsync(StatusCode.PermissionDenied, () => finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = victim, ToUserId = user.Id, Amount = Eur(1_00) }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = victim, Amount = Eur(1_00) }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.GetBalanceAsync(new GetBalanceRequest { UserId = victim, CurrencyCode = "EUR" }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = victim }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.GetStatementAsync(new GetStatementRequest { UserId = victim, CurrencyCode = "EUR" }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = deposit.TransactionId }, cancellationToken: Cancel));
        Assert.Equal(10_00, (await platform.FinanceAsAdmin().GetBalanceAsync(new GetBalanceRequest { UserId = victim, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
    }

    [Fact]
    public async Task A_user_may_not_deposit_hold_settle_or_reverse_even_for_themselves()
    {
        var user = await platform.SignUpAsync();
        var deposit = await platform.FundAsync(user.Id, 10_00);
        var hold = await platform.FinanceAsAdmin().HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = user.Id, Amount = Eur(1_00) }, cancellationToken: Cancel);
        var finance = platform.FinanceClient(user.AccessToken);

        await FailsAsync(StatusCode.PermissionDenied, () => finance.DepositAsync(new DepositRequest { IdempotencyKey = Key(), Amount = Eur(1_00) }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), Amount = Eur(1_00) }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = hold.TransactionId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = deposit.TransactionId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task Support_reads_anyones_balance_and_history_but_moves_nothing()
    {
        var support = await platform.SignUpAsync("support");
        var user = await platform.NewUserIdAsync();
        var deposit = await platform.FundAsync(user, 3_00);
        var finance = platform.FinanceClient(support.AccessToken);

        Assert.Equal(3_00, (await finance.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
        Assert.Equal(deposit, await finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = deposit.TransactionId }, cancellationToken: Cancel));
        Assert.Single((await finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user }, cancellationToken: Cancel)).Transactions);
        await FailsAsync(StatusCode.PermissionDenied, () => finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(1_00) }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => finance.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = deposit.TransactionId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task Another_app_may_not_deposit_or_reverse_and_an_administrator_may()
    {
        var user = await platform.NewUserIdAsync();
        var deposit = await platform.FundAsync(user, 3_00);
        var asAuth = await platform.FinanceClientAsAsync(AppPlatform.AuthAppId);

        await FailsAsync(StatusCode.PermissionDenied, () => asAuth.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(9_000_00) }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => asAuth.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = deposit.TransactionId }, cancellationToken: Cancel));
        var admin = platform.FinanceAsAdmin();
        await admin.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(1_00) }, cancellationToken: Cancel);
        await admin.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = deposit.TransactionId }, cancellationToken: Cancel);

        Assert.Equal(1_00, (await admin.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
    }

    [Fact]
    public async Task Anonymous_callers_are_Unauthenticated_for_every_rpc()
    {
        var finance = platform.FinanceClient();
        var id = Guid.NewGuid().ToString();
        Func<Task>[] calls =
        [
            () => finance.GetBalanceAsync(new GetBalanceRequest { UserId = id, CurrencyCode = "EUR" }).ResponseAsync,
            () => finance.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = id, Amount = Eur(1) }).ResponseAsync,
            () => finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = id, Amount = Eur(1) }).ResponseAsync,
            () => finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = id, ToUserId = Guid.NewGuid().ToString(), Amount = Eur(1) }).ResponseAsync,
            () => finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = id, Amount = Eur(1) }).ResponseAsync,
            () => finance.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key(), HoldTransactionId = id }).ResponseAsync,
            () => finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = id }).ResponseAsync,
            () => finance.ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = id }).ResponseAsync,
            () => finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = id }).ResponseAsync,
            () => finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = id }).ResponseAsync,
            () => finance.GetStatementAsync(new GetStatementRequest { UserId = id, CurrencyCode = "EUR" }).ResponseAsync,
        ];
        Assert.Equal(FinanceService.Descriptor.Methods.Count, calls.Length);

        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        }
    }
}
