using System.Collections.Concurrent;
using System.Diagnostics;
using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>A finance platform on PostgreSQL and Redis servers of its own, which its tests stop and start.</summary>
public sealed class OutagePlatform() : FinancePlatform(new PostgresServer(), new RedisServer(), ownsServers: true);

/// <summary>
/// PostgreSQL restarted under load and Redis stopped: clients see Unavailable (never Internal) and retry with the
/// same idempotency key; nothing committed is lost or applied twice; the service recovers without a restart.
/// </summary>
[Collection(typeof(LoadCollection))]
public sealed class OutageTests(OutagePlatform platform) : IClassFixture<OutagePlatform>
{
    private static Money Eur(long minorUnits) => new() { CurrencyCode = "EUR", MinorUnits = minorUnits };

    [Fact]
    public async Task PostgreSQL_restarted_in_the_middle_of_a_load_loses_no_committed_transfer_shows_only_Unavailable_and_recovers()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => platform.NewUserIdAsync()));
        await Task.WhenAll(users.Select(u => platform.FundAsync(u, 100_00)));
        var finance = platform.FinanceAsAdmin();
        var statuses = new ConcurrentDictionary<StatusCode, int>();
        var answers = new ConcurrentDictionary<string, Transaction>();
        using var stop = new CancellationTokenSource();

        // Each client retries a transfer under its key until it is answered, as a careful client does.
        var load = Enumerable.Range(0, 8).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            while (!stop.IsCancellationRequested)
            {
                var from = random.Next(users.Length);
                var request = new TransferRequest
                {
                    IdempotencyKey = Guid.NewGuid().ToString(), FromUserId = users[from], ToUserId = users[(from + 1 + random.Next(users.Length - 1)) % users.Length],
                    Amount = Eur(1 + random.Next(5_00)),
                };
                for (var attempt = 0; attempt < 600; attempt++)
                {
                    try
                    {
                        answers[request.IdempotencyKey] = await finance.TransferAsync(request, deadline: DateTime.UtcNow.AddSeconds(20));
                        statuses.AddOrUpdate(StatusCode.OK, 1, (_, n) => n + 1);
                        break;
                    }
                    catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && Reason(e) == "INSUFFICIENT_FUNDS")
                    {
                        break;
                    }
                    catch (RpcException e)
                    {
                        statuses.AddOrUpdate(e.StatusCode, 1, (_, n) => n + 1);
                        await Task.Delay(100);
                    }
                }
            }
        })).ToList();

        await Task.Delay(TimeSpan.FromSeconds(3), Cancel);
        var before = answers.Count;
        await platform.Postgres.StopAsync(Cancel);
        await Task.Delay(TimeSpan.FromSeconds(4), Cancel);
        await platform.Postgres.StartAsync(Cancel);
        // Recovered: transfers complete again, through the same app process.
        var recovered = await EventuallyAsync(() => Task.FromResult(answers.Count), n => n > before + 50, TimeSpan.FromMinutes(2), "transfers completing after the restart");
        await stop.CancelAsync();
        await Task.WhenAll(load);

        Assert.True(statuses.ContainsKey(StatusCode.Unavailable), $"no call saw the outage: {string.Join(", ", statuses)}");
        Assert.DoesNotContain(statuses.Keys, code => code is not (StatusCode.OK or StatusCode.Unavailable));
        Assert.False(platform.FinanceApp.HasExited);
        // Every answered transfer is in the ledger exactly once, whether its first attempt committed or a retry did.
        var stored = await platform.FinanceScalarAsync<long>(
            "SELECT count(*) FROM service_finance_transaction WHERE type = 3 AND idempotency_key = ANY(@keys)", ("keys", answers.Keys.ToArray()));
        Assert.Equal(answers.Count, stored);
        // This test's users only: the class's other tests move money on the same database.
        var transfers = await platform.FinanceScalarAsync<long>("SELECT count(*) FROM service_finance_transaction WHERE type = 3 AND user_id = ANY(@users)",
            ("users", users.Select(Guid.Parse).ToArray()));
        Assert.True(transfers >= answers.Count && transfers <= answers.Count + 8, $"{transfers} transfers stored, {answers.Count} answered by 8 clients");
        Assert.Empty(await platform.LedgerViolationsAsync());
        var balances = await Task.WhenAll(users.Select(u => finance.GetBalanceAsync(new GetBalanceRequest { UserId = u, CurrencyCode = "EUR" }, cancellationToken: Cancel).ResponseAsync));
        Assert.Equal(users.Length * 100_00L, balances.Sum(b => b.Available.MinorUnits));
        Assert.True(recovered > before);
    }

    [Fact]
    public async Task With_Redis_stopped_balances_are_read_from_PostgreSQL_writes_succeed_and_their_events_follow_once_Redis_returns()
    {
        var (from, to) = (await platform.NewUserIdAsync(), await platform.NewUserIdAsync());
        await platform.FundAsync(from, 10_00);
        var finance = platform.FinanceAsAdmin();
        await finance.GetBalanceAsync(new GetBalanceRequest { UserId = from, CurrencyCode = "EUR" }, cancellationToken: Cancel);

        await platform.Redis.StopAsync(Cancel);
        Transaction transfer;
        try
        {
            transfer = await finance.TransferAsync(new TransferRequest { IdempotencyKey = Guid.NewGuid().ToString(), FromUserId = from, ToUserId = to, Amount = Eur(4_00) }, cancellationToken: Cancel);
            var deposit = await platform.FundAsync(to, 1_00);
            Assert.Equal(TransactionType.Deposit, deposit.Type);
            Assert.Equal(6_00, (await finance.GetBalanceAsync(new GetBalanceRequest { UserId = from, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
            Assert.Equal(5_00, (await finance.GetBalanceAsync(new GetBalanceRequest { UserId = to, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
            Assert.Empty(await platform.Subscriber.SettleAsync(r => r.Kind == "event" && r.Event.Data.ToStringUtf8().Contains(transfer.TransactionId, StringComparison.Ordinal), Settle));
        }
        finally
        {
            await platform.Redis.StartAsync(Cancel);
        }
        // This Redis keeps nothing across a restart (a real one persists), so the administrator signs in again.
        await platform.SignInAdminAsync();

        await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(FinanceTopic.TransferCompleted) && r.Event.Data.ToStringUtf8().Contains(transfer.TransactionId, StringComparison.Ordinal), timeout: EventTimeout);
        Assert.Equal(6_00, (await platform.FinanceAsAdmin().GetBalanceAsync(new GetBalanceRequest { UserId = from, CurrencyCode = "EUR" }, cancellationToken: Cancel)).Available.MinorUnits);
        await EventuallyAsync(() => platform.FinanceScalarAsync<long>("SELECT count(*) FROM service_event WHERE published_at IS NULL"), n => n == 0, what: "unpublished outbox rows");
    }

    [Fact]
    public async Task With_Redis_down_balances_and_transfers_answer_without_waiting_for_timeouts_and_session_checks_resume_when_it_returns()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => platform.NewUserIdAsync()));
        await Task.WhenAll(users.Select(u => platform.FundAsync(u, 1_000_00)));
        var finance = platform.FinanceAsAdmin();
        var reads = new List<double>();
        var writes = new List<double>();

        await platform.Redis.StopAsync(Cancel);
        try
        {
            // The breakers open after the first calls fail; then every call goes on without Redis at once.
            for (var i = 0; i < 10; i++)
            {
                await finance.GetBalanceAsync(new GetBalanceRequest { UserId = users[i % users.Length], CurrencyCode = "EUR" }, cancellationToken: Cancel);
            }
            for (var i = 0; i < 200; i++)
            {
                var started = Stopwatch.GetTimestamp();
                await finance.GetBalanceAsync(new GetBalanceRequest { UserId = users[i % users.Length], CurrencyCode = "EUR" }, cancellationToken: Cancel);
                reads.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                if (i % 4 == 0)
                {
                    started = Stopwatch.GetTimestamp();
                    await finance.TransferAsync(new TransferRequest { IdempotencyKey = Guid.NewGuid().ToString(), FromUserId = users[i % users.Length], ToUserId = users[(i + 1) % users.Length], Amount = Eur(1) }, cancellationToken: Cancel);
                    writes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }
        }
        finally
        {
            await platform.Redis.StartAsync(Cancel);
        }

        // Figures, not assertions (timing depends on the machine): apps/finance/README.md quotes them.
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"Redis down: GetBalance p50 {Percentile(reads, 50):F1} ms, p99 {Percentile(reads, 99):F1} ms ({reads.Count}); Transfer p50 {Percentile(writes, 50):F1} ms, p99 {Percentile(writes, 99):F1} ms ({writes.Count})");
        // Back: sign-ins work again, and so do session checks, so a token whose session ended is refused again.
        await platform.SignInAdminAsync();
        var user = await platform.SignUpAsync();
        await platform.AuthClient(user.AccessToken).LogoutAsync(new Google.Protobuf.WellKnownTypes.Empty(), cancellationToken: Cancel);
        await EventuallyAsync(async () =>
        {
            try
            {
                await platform.FinanceClient(user.AccessToken).GetBalanceAsync(new GetBalanceRequest { CurrencyCode = "EUR" }, cancellationToken: Cancel);
                return false;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
            {
                return true;
            }
        }, refused => refused, what: "a logged-out token to be refused once Redis is back");
        Assert.Empty(await platform.LedgerViolationsAsync());
    }

    private static double Percentile(List<double> values, int percentile)
    {
        var sorted = values.Order().ToList();
        return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Count) - 1)];
    }
}
