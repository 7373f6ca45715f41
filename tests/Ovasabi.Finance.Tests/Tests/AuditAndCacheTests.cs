using System.Text.Json;
using Npgsql;
using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>The audit trail each change leaves, and the balance cache that must never show a writer an older balance.</summary>
public sealed class AuditAndCacheTests(SharedFinancePlatform platform)
{
    private FinanceService.FinanceServiceClient Finance => platform.FinanceAsAdmin();

    private static Money Eur(long minorUnits) => new() { CurrencyCode = "EUR", MinorUnits = minorUnits };

    private sealed record AuditRow(string Actor, string Action, JsonElement Before, JsonElement After, string? RequestId, string? TraceId);

    private async Task<AuditRow> AuditOfAsync(string transactionId)
    {
        await using var connection = new NpgsqlConnection(platform.FinanceDatabase);
        await connection.OpenAsync(Cancel);
        await using var command = new NpgsqlCommand(
            "SELECT a.actor, a.action, a.before::text, a.after::text, a.request_id, a.trace_id FROM service_finance_audit a " +
            "JOIN service_finance_transaction t ON t.id = a.transaction_id JOIN master m ON m.id = t.master_id WHERE m.uuid = @id", connection);
        command.Parameters.AddWithValue("id", Guid.Parse(transactionId));
        await using var reader = await command.ExecuteReaderAsync(Cancel);
        Assert.True(await reader.ReadAsync(Cancel), $"no audit row for {transactionId}");
        var row = new AuditRow(reader.GetString(0), reader.GetString(1), JsonDocument.Parse(reader.GetString(2)).RootElement,
            JsonDocument.Parse(reader.GetString(3)).RootElement, reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5));
        Assert.False(await reader.ReadAsync(Cancel), $"more than one audit row for {transactionId}");
        return row;
    }

    private static long Available(JsonElement snapshot, string userId) =>
        snapshot.GetProperty("accounts").EnumerateArray().Single(a => a.GetProperty("user_id").GetString() == userId).GetProperty("available").GetInt64();

    [Fact]
    public async Task A_transfer_leaves_one_audit_row_with_the_actor_from_the_token_both_balances_before_and_after_and_the_request_id()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.NewUserIdAsync();
        await platform.FundAsync(user.Id, 10_00);
        var requestId = Guid.NewGuid().ToString();

        var transfer = await platform.FinanceClient(user.AccessToken).TransferAsync(new TransferRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(), ToUserId = other, Amount = Eur(4_00),
        }, FinancePlatform.RequestId(requestId), cancellationToken: Cancel);

        var audit = await AuditOfAsync(transfer.TransactionId);
        Assert.Equal(($"user:{user.Id}", "transfer", requestId), (audit.Actor, audit.Action, audit.RequestId));
        Assert.Equal((10_00L, 0L), (Available(audit.Before, user.Id), Available(audit.Before, other)));
        Assert.Equal((6_00L, 4_00L), (Available(audit.After, user.Id), Available(audit.After, other)));
        Assert.Matches("^[0-9a-f]{32}$", audit.TraceId);
    }

    [Fact]
    public async Task A_reversal_is_audited_with_the_status_change_of_what_it_reversed()
    {
        var user = await platform.NewUserIdAsync();
        var deposit = await platform.FundAsync(user, 5_00);

        var reversal = await platform.FinanceClient(platform.Admin.AccessToken).ReverseAsync(new ReverseRequest { IdempotencyKey = Guid.NewGuid().ToString(), TransactionId = deposit.TransactionId }, cancellationToken: Cancel);

        var audit = await AuditOfAsync(reversal.TransactionId);
        Assert.StartsWith("user:", audit.Actor, StringComparison.Ordinal);
        Assert.Equal("reversal", audit.Action);
        Assert.Equal("Completed", audit.Before.GetProperty("transactions")[0].GetProperty("status").GetString());
        Assert.Equal("Reversed", audit.After.GetProperty("transactions")[0].GetProperty("status").GetString());
        var depositAudit = await AuditOfAsync(deposit.TransactionId);
        Assert.Equal((audit.Actor, "deposit"), (depositAudit.Actor, depositAudit.Action));
    }

    [Theory]
    [InlineData("UPDATE service_finance_audit SET actor = 'someone else'")]
    [InlineData("DELETE FROM service_finance_audit")]
    [InlineData("TRUNCATE service_finance_audit")]
    [InlineData("UPDATE service_finance_entry SET amount = amount * 2")]
    [InlineData("DELETE FROM service_finance_entry")]
    public async Task The_database_refuses_to_change_or_remove_audit_rows_and_ledger_entries(string sql)
    {
        await platform.FundAsync(await platform.NewUserIdAsync(), 1_00);

        var error = await Assert.ThrowsAsync<PostgresException>(() => platform.FinanceScalarAsync<object>(sql));

        Assert.Contains("immutable", error.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_database_refuses_a_posting_whose_entries_do_not_sum_to_zero()
    {
        await platform.FundAsync(await platform.NewUserIdAsync(), 1_00);

        var error = await Assert.ThrowsAsync<PostgresException>(() => platform.FinanceScalarAsync<object>(
            "INSERT INTO service_finance_entry (transaction_id, account_id, bucket, amount, currency, created_at) " +
            "SELECT transaction_id, account_id, bucket, 1, currency, now() FROM service_finance_entry LIMIT 1"));

        Assert.Contains("do not sum to zero", error.MessageText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_balance_is_cached_under_its_key_and_marked_stale_by_every_change_before_it_answers()
    {
        var user = await platform.NewUserIdAsync();
        await platform.FundAsync(user, 3_00);
        await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "EUR" }, cancellationToken: Cancel);
        var cached = await CachedAsync(user);
        Assert.Contains("\"minorUnits\": \"300\"", cached, StringComparison.Ordinal);
        var version = System.Text.Json.JsonDocument.Parse(cached).RootElement.GetProperty("version").GetInt64();

        await platform.FundAsync(user, 2_00);

        // Marked by the posting itself, before any read: only its version is left, so no reader can put 300 back.
        Assert.Equal($"{{\"version\":{version + 1}}}", await CachedAsync(user));
        Assert.Equal(5_00, (await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
        Assert.Contains("\"minorUnits\": \"500\"", await CachedAsync(user), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readers_racing_with_writes_never_show_a_writer_a_balance_older_than_its_own_write()
    {
        var user = await platform.NewUserIdAsync();
        await using var redis = await platform.Redis.ConnectAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        // Readers keep missing and filling the cache while the writer writes.
        var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "EUR" });
                await redis.GetDatabase(platform.RedisDatabase).KeyDeleteAsync($"{FinancePlatform.FinanceAppId}||finance:balance:{user}:EUR");
            }
        })).ToList();

        for (var i = 1; i <= 30; i++)
        {
            await platform.FundAsync(user, 1_00);
            var read = await Finance.GetBalanceAsync(new GetBalanceRequest { UserId = user, CurrencyCode = "EUR" }, cancellationToken: Cancel);
            Assert.True(read.Available.MinorUnits >= i * 1_00, $"after deposit {i} the writer read {read.Available.MinorUnits}");
        }
        await stop.CancelAsync();
        await Task.WhenAll(readers.Select(r => r.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    private async Task<string> CachedAsync(string userId)
    {
        await using var connection = await platform.Redis.ConnectAsync();
        var value = await connection.GetDatabase(platform.RedisDatabase).HashGetAsync($"{FinancePlatform.FinanceAppId}||finance:balance:{userId}:EUR", "data");
        return value.IsNull ? "" : value.ToString();
    }
}
