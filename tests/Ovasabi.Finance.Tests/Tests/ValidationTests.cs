using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>Bad input to every movement: the precise status, the offending field named, and no money moved.</summary>
public sealed class ValidationTests(SharedFinancePlatform platform)
{
    private FinanceService.FinanceServiceClient Finance => platform.FinanceAsAdmin();

    private static string Key() => Guid.NewGuid().ToString();

    /// <summary>An amount that is wrong in itself, the field the error names, and why.</summary>
    public static TheoryData<string, long, string, string> BadAmounts => new()
    {
        { "EUR", 0, "", "amount" },
        { "EUR", -100, "", "amount" },
        { "EUR", 0, "12.345", "amount.decimal_amount" },
        { "JPY", 0, "5.5", "amount.decimal_amount" },
        { "EUR", 0, "12,34", "amount.decimal_amount" },
        { "EUR", 0, "-1.00", "amount" },
        { "EUR", 1234, "12.35", "amount" },
        { "XYZ", 100, "", "amount.currency_code" },
        { "eur", 100, "", "amount.currency_code" },
        { "", 100, "", "amount.currency_code" },
        { "EUR", 10_000_01, "", "amount" },
    };

    [Theory]
    [MemberData(nameof(BadAmounts))]
    public async Task A_deposit_with_a_zero_negative_too_precise_malformed_disagreeing_unknown_or_too_large_amount_is_InvalidArgument(string currency, long minorUnits, string decimalAmount, string field)
    {
        var user = await platform.NewUserIdAsync();
        var amount = new Money { CurrencyCode = currency, MinorUnits = minorUnits, DecimalAmount = decimalAmount };

        await InvalidAsync(field, () => Finance.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = user, Amount = amount }, cancellationToken: Cancel));

        Assert.Equal(0, (await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
    }

    [Theory]
    [MemberData(nameof(BadAmounts))]
    public async Task A_transfer_withdrawal_or_hold_with_such_an_amount_is_InvalidArgument_too(string currency, long minorUnits, string decimalAmount, string field)
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 100_00);
        var amount = new Money { CurrencyCode = currency, MinorUnits = minorUnits, DecimalAmount = decimalAmount };

        await InvalidAsync(field, () => Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = from, ToUserId = to, Amount = amount }, cancellationToken: Cancel));
        await InvalidAsync(field, () => Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = from, Amount = amount }, cancellationToken: Cancel));
        await InvalidAsync(field, () => Finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = from, Amount = amount }, cancellationToken: Cancel));

        var balance = await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = from, CurrencyCode = "EUR" }, cancellationToken: Cancel);
        Assert.Equal((100_00L, 0L), (balance.Available.MinorUnits, balance.Held.MinorUnits));
    }

    [Fact]
    public async Task A_missing_amount_is_InvalidArgument()
    {
        var user = await platform.NewUserIdAsync();

        await InvalidAsync("amount", () => Finance.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = user }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task An_ISO_currency_the_platform_does_not_move_is_FailedPrecondition()
    {
        var user = await platform.NewUserIdAsync();

        var error = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.DepositAsync(new DepositRequest
        {
            IdempotencyKey = Key(), UserId = user, Amount = new Money { CurrencyCode = "SEK", MinorUnits = 100 },
        }, cancellationToken: Cancel));

        Assert.Equal("CURRENCY_NOT_SUPPORTED", Reason(error));
        Assert.Contains("EUR", error.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_transfer_to_oneself_is_InvalidArgument()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 10_00);

        await InvalidAsync("to_user_id", () => Finance.TransferAsync(new TransferRequest
        {
            IdempotencyKey = Key(), FromUserId = user, ToUserId = user, Amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_00 },
        }, cancellationToken: Cancel));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has spaces in it")]
    [InlineData("ключ")]
    public async Task A_missing_or_malformed_idempotency_key_is_InvalidArgument(string key)
    {
        var user = await platform.NewUserIdAsync();

        await InvalidAsync("idempotency_key", () => Finance.DepositAsync(new DepositRequest
        {
            IdempotencyKey = key, UserId = user, Amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_00 },
        }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task An_idempotency_key_longer_than_128_characters_is_InvalidArgument()
    {
        var user = await platform.NewUserIdAsync();

        await InvalidAsync("idempotency_key", () => Finance.DepositAsync(new DepositRequest
        {
            IdempotencyKey = new string('k', 129), UserId = user, Amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_00 },
        }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_malformed_user_id_is_InvalidArgument()
    {
        await InvalidAsync("user_id", () => Finance.DepositAsync(new DepositRequest
        {
            IdempotencyKey = Key(), UserId = "not-a-uuid", Amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_00 },
        }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Finance.GetBalanceAsync(new GetBalanceRequest { UserId = "not-a-uuid", CurrencyCode = "EUR" }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task Moving_money_of_an_unknown_user_is_NotFound()
    {
        var known = await platform.NewUserIdAsync();
        await platform.FundAsync(known, 10_00);
        var unknown = Guid.NewGuid().ToString();
        var amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_00 };

        await FailsAsync(StatusCode.NotFound, () => Finance.DepositAsync(new DepositRequest { IdempotencyKey = Key(), UserId = unknown, Amount = amount }, cancellationToken: Cancel));
        var error = await FailsAsync(StatusCode.NotFound, () => Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = known, ToUserId = unknown, Amount = amount }, cancellationToken: Cancel));

        Assert.Equal("USER_NOT_FOUND", Reason(error));
        Assert.Equal(10_00, (await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = known, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
    }

    [Fact]
    public async Task Moving_money_to_or_from_a_suspended_user_is_FailedPrecondition_within_moments_and_again_allowed_once_reactivated()
    {
        var (active, suspended) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(active, 10_00);
        await platform.FundAsync(suspended, 10_00);
        var users = platform.UserClient(platform.Admin.AccessToken);
        await users.SuspendUserAsync(new SuspendUserRequest { UserId = suspended, Reason = "investigation" }, cancellationToken: Cancel);
        var amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_00 };

        // Finance trusts its last "active" answer for a few seconds unless the suspension event reached it first. The
        // probe asks for more than the sender has, so it can never move money: it answers INSUFFICIENT_FUNDS while the
        // receiver still counts as active.
        await EventuallyAsync(async () => Reason(await Assert.ThrowsAsync<RpcException>(() => Finance.TransferAsync(new TransferRequest
        {
            IdempotencyKey = Key(), FromUserId = active, ToUserId = suspended, Amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_000_00 },
        }, cancellationToken: Cancel).ResponseAsync)), reason => reason == "USER_SUSPENDED", TimeSpan.FromSeconds(30), "the suspension applied");
        var into = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = active, ToUserId = suspended, Amount = amount }, cancellationToken: Cancel));
        var outOf = await FailsAsync(StatusCode.FailedPrecondition, () => Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = suspended, Amount = amount }, cancellationToken: Cancel));
        Assert.Equal(("USER_SUSPENDED", "USER_SUSPENDED"), (Reason(into), Reason(outOf)));

        await users.ReactivateUserAsync(new ReactivateUserRequest { UserId = suspended }, cancellationToken: Cancel);
        await Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = active, ToUserId = suspended, Amount = amount }, cancellationToken: Cancel);
        Assert.Equal(11_00, (await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = suspended, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
        Assert.Equal(9_00, (await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = active, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
    }

    [Fact]
    public async Task Sending_more_than_the_daily_limit_is_ResourceExhausted_and_reversed_movements_do_not_count()
    {
        // EUR: at most 10,000.00 per movement and 25,000.00 sent per day (the defaults).
        var (user, other) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        for (var i = 0; i < 4; i++)
        {
            await platform.FundAsync(user, 10_000_00);
        }
        Money Eur(long units) => new() { CurrencyCode = "EUR", MinorUnits = units };
        await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(10_000_00) }, cancellationToken: Cancel);
        var transfer = await Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = user, ToUserId = other, Amount = Eur(10_000_00) }, cancellationToken: Cancel);

        var error = await FailsAsync(StatusCode.ResourceExhausted, () => Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = user, ToUserId = other, Amount = Eur(5_000_01) }, cancellationToken: Cancel));
        Assert.Equal("DAILY_LIMIT_EXCEEDED", Reason(error));
        await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(5_000_00) }, cancellationToken: Cancel);
        await FailsAsync(StatusCode.ResourceExhausted, () => Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(1) }, cancellationToken: Cancel));

        await platform.FinanceClient(platform.Admin.AccessToken).ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = transfer.TransactionId }, cancellationToken: Cancel);
        await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(10_000_00) }, cancellationToken: Cancel);
    }

    [Fact]
    public async Task A_release_capture_or_reversal_naming_no_or_a_malformed_transaction_is_InvalidArgument()
    {
        await InvalidAsync("hold_transaction_id", () => Finance.ReleaseAsync(new ReleaseRequest { IdempotencyKey = Key() }, cancellationToken: Cancel));
        await InvalidAsync("hold_transaction_id", () => Finance.CaptureAsync(new CaptureRequest { IdempotencyKey = Key(), HoldTransactionId = "42" }, cancellationToken: Cancel));
        await InvalidAsync("transaction_id", () => platform.FinanceClient(platform.Admin.AccessToken).ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = "x" }, cancellationToken: Cancel));
    }
}
