using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>Transaction history in pages with filters, and statements with opening and closing balances.</summary>
public sealed class HistoryTests(SharedFinancePlatform platform)
{
    private FinanceService.FinanceServiceClient Finance => platform.FinanceAsAdmin();

    private static Money Eur(long minorUnits) => new() { CurrencyCode = "EUR", MinorUnits = minorUnits };

    private static string Key() => Guid.NewGuid().ToString();

    /// <summary>A user with a deposit, two withdrawals, a transfer in each direction, a hold and a reversed withdrawal; newest first.</summary>
    private async Task<(string User, string Other, List<Transaction> NewestFirst)> HistoryAsync()
    {
        var (user, other) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(other, 50_00);
        var made = new List<Transaction>
        {
            await platform.FundAsync(user, 100_00),
            await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(10_00) }, cancellationToken: Cancel),
            await Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = user, ToUserId = other, Amount = Eur(5_00) }, cancellationToken: Cancel),
            await Finance.TransferAsync(new TransferRequest { IdempotencyKey = Key(), FromUserId = other, ToUserId = user, Amount = Eur(20_00) }, cancellationToken: Cancel),
            await Finance.HoldAsync(new HoldRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(1_00) }, cancellationToken: Cancel),
        };
        var withdrawal = await Finance.WithdrawAsync(new WithdrawRequest { IdempotencyKey = Key(), UserId = user, Amount = Eur(2_00) }, cancellationToken: Cancel);
        made.Add(withdrawal);
        made.Add(await platform.FinanceClient(platform.Admin.AccessToken).ReverseAsync(new ReverseRequest { IdempotencyKey = Key(), TransactionId = withdrawal.TransactionId }, cancellationToken: Cancel));
        made[5] = await Finance.GetTransactionAsync(new GetTransactionRequest { TransactionId = withdrawal.TransactionId }, cancellationToken: Cancel);
        made.Reverse();
        return (user, other, made);
    }

    [Fact]
    public async Task Pages_of_two_walk_the_whole_history_newest_first_without_gaps_or_repeats()
    {
        var (user, _, expected) = await HistoryAsync();

        var pages = new List<Transaction>();
        var token = "";
        var calls = 0;
        do
        {
            var page = await Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, Page = new PageRequest { PageSize = 2, PageToken = token } }, cancellationToken: Cancel);
            Assert.True(page.Transactions.Count <= 2);
            pages.AddRange(page.Transactions);
            token = page.Page.NextPageToken;
            calls++;
        }
        while (token.Length > 0 && calls < 10);

        Assert.Equal(expected.Select(t => t.TransactionId), pages.Select(t => t.TransactionId));
        Assert.Equal(4, calls);
    }

    [Fact]
    public async Task Filters_by_type_status_and_time_select_what_they_name()
    {
        var (user, _, all) = await HistoryAsync();
        ListTransactionsRequest Request() => new() { UserId = user };

        var transfers = await Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, TransactionTypes = { TransactionType.Transfer } }, cancellationToken: Cancel);
        Assert.Equal(all.Where(t => t.Type == TransactionType.Transfer).Select(t => t.TransactionId), transfers.Transactions.Select(t => t.TransactionId));

        var reversed = await Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, Statuses = { TransactionStatus.Reversed } }, cancellationToken: Cancel);
        Assert.Equal([all[1].TransactionId], reversed.Transactions.Select(t => t.TransactionId));

        var after = all[3].CreateTime;
        var recent = await Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, CreatedAfter = after }, cancellationToken: Cancel);
        Assert.Equal(all.Where(t => t.CreateTime > after).Select(t => t.TransactionId), recent.Transactions.Select(t => t.TransactionId));

        var none = await Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, CurrencyCode = "USD" }, cancellationToken: Cancel);
        Assert.Empty(none.Transactions);
        Assert.Equal(all.Count, (await Finance.ListTransactionsAsync(Request(), cancellationToken: Cancel)).Transactions.Count);
    }

    [Fact]
    public async Task A_page_token_offered_with_another_filter_or_tampered_with_is_InvalidArgument()
    {
        var (user, _, _) = await HistoryAsync();
        var first = await Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, Page = new PageRequest { PageSize = 2 } }, cancellationToken: Cancel);

        await InvalidAsync("page.page_token", () => Finance.ListTransactionsAsync(new ListTransactionsRequest
        {
            UserId = user, TransactionTypes = { TransactionType.Deposit }, Page = new PageRequest { PageSize = 2, PageToken = first.Page.NextPageToken },
        }, cancellationToken: Cancel));
        await InvalidAsync("page.page_token", () => Finance.ListTransactionsAsync(new ListTransactionsRequest
        {
            UserId = user, Page = new PageRequest { PageSize = 2, PageToken = first.Page.NextPageToken[..^2] + "AA" },
        }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task Bad_list_arguments_are_InvalidArgument()
    {
        var user = await platform.NewUserIdAsync();

        await InvalidAsync("page.page_size", () => Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, Page = new PageRequest { PageSize = 101 } }, cancellationToken: Cancel));
        await InvalidAsync("transaction_types", () => Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, TransactionTypes = { (TransactionType)99 } }, cancellationToken: Cancel));
        await InvalidAsync("currency_code", () => Finance.ListTransactionsAsync(new ListTransactionsRequest { UserId = user, CurrencyCode = "EURO" }, cancellationToken: Cancel));
        var now = DateTimeOffset.UtcNow;
        await InvalidAsync("created_before", () => Finance.ListTransactionsAsync(new ListTransactionsRequest
        {
            UserId = user, CreatedAfter = Timestamp.FromDateTimeOffset(now), CreatedBefore = Timestamp.FromDateTimeOffset(now.AddDays(-1)),
        }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_statement_gives_the_opening_and_closing_balance_and_the_transactions_of_its_period()
    {
        var (user, _, all) = await HistoryAsync();
        var oldestFirst = all.AsEnumerable().Reverse().ToList();
        // The period starts just after the first deposit and ends just after the hold.
        var start = oldestFirst[0].CreateTime.ToDateTimeOffset().AddTicks(10);
        var end = oldestFirst[4].CreateTime.ToDateTimeOffset().AddTicks(10);

        var statement = await Finance.GetStatementAsync(new GetStatementRequest
        {
            UserId = user, CurrencyCode = "EUR", PeriodStart = Timestamp.FromDateTimeOffset(start), PeriodEnd = Timestamp.FromDateTimeOffset(end),
        }, cancellationToken: Cancel);

        Assert.Equal(new Money { CurrencyCode = "EUR", MinorUnits = 100_00, DecimalAmount = "100.00" }, statement.OpeningBalance);
        // 100 - 10 - 5 + 20; the hold keeps the money the user's (held), so the total does not change.
        Assert.Equal(105_00, statement.ClosingBalance.MinorUnits);
        Assert.Equal(oldestFirst.Skip(1).Take(4).Select(t => t.TransactionId), statement.Transactions.Select(t => t.TransactionId));
    }

    [Fact]
    public async Task A_statement_needs_a_currency_and_a_period_of_at_most_366_days_in_order()
    {
        var user = await platform.NewUserIdAsync();
        var now = DateTimeOffset.UtcNow;
        Timestamp At(DateTimeOffset t) => Timestamp.FromDateTimeOffset(t);

        await InvalidAsync("currency_code", () => Finance.GetStatementAsync(new GetStatementRequest { UserId = user, PeriodStart = At(now.AddDays(-1)), PeriodEnd = At(now) }, cancellationToken: Cancel));
        await InvalidAsync("period_start", () => Finance.GetStatementAsync(new GetStatementRequest { UserId = user, CurrencyCode = "EUR", PeriodEnd = At(now) }, cancellationToken: Cancel));
        await InvalidAsync("period_end", () => Finance.GetStatementAsync(new GetStatementRequest { UserId = user, CurrencyCode = "EUR", PeriodStart = At(now), PeriodEnd = At(now.AddDays(-1)) }, cancellationToken: Cancel));
        await InvalidAsync("period_end", () => Finance.GetStatementAsync(new GetStatementRequest { UserId = user, CurrencyCode = "EUR", PeriodStart = At(now.AddDays(-400)), PeriodEnd = At(now) }, cancellationToken: Cancel));
    }
}
