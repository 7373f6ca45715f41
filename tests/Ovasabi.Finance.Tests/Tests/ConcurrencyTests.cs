using System.Collections.Concurrent;
using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1;
using Ovasabi.Finance.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Finance.Tests.Tests;

/// <summary>
/// The tests that load the machine (many clients, or a platform of their own whose servers they restart) run one at a
/// time, after the others, so they neither starve nor are starved by the rest of the assembly.
/// </summary>
[CollectionDefinition(DisableParallelization = true)]
public sealed class LoadCollection;

/// <summary>Many clients moving money among few accounts at once: nothing lost, nothing negative, every transfer announced once.</summary>
[Collection(typeof(LoadCollection))]
public sealed class ConcurrencyTests(SharedFinancePlatform platform)
{
    private const int Accounts = 20;
    private const int Clients = 32;
    private const int Transfers = 5_000;
    private const long Funding = 200_00;

    [Fact]
    public async Task Thirty_two_clients_doing_5000_random_transfers_among_20_accounts_keep_every_balance_non_negative_the_total_unchanged_and_announce_each_transfer_once()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, Accounts).Select(_ => platform.NewUserIdAsync()));
        await Task.WhenAll(users.Select(u => platform.FundAsync(u, Funding)));
        var finance = platform.FinanceAsAdmin();
        var completed = new ConcurrentBag<Transaction>();
        var refused = 0;
        var unexpected = new ConcurrentBag<string>();
        var next = -1;

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(async () =>
        {
            var random = new Random(client);
            while (Interlocked.Increment(ref next) < Transfers)
            {
                var from = random.Next(Accounts);
                var to = (from + 1 + random.Next(Accounts - 1)) % Accounts;
                var request = new TransferRequest
                {
                    IdempotencyKey = Guid.NewGuid().ToString(), FromUserId = users[from], ToUserId = users[to],
                    Amount = new Money { CurrencyCode = "EUR", MinorUnits = 1_00 + random.Next(50_00) },
                };
                try
                {
                    completed.Add(await finance.TransferAsync(request, cancellationToken: Cancel));
                }
                catch (RpcException e) when (e.StatusCode == StatusCode.FailedPrecondition && Reason(e) == "INSUFFICIENT_FUNDS")
                {
                    Interlocked.Increment(ref refused);
                }
                catch (RpcException e)
                {
                    unexpected.Add($"{e.StatusCode}: {e.Status.Detail}");
                }
            }
        }, Cancel)));

        Assert.Empty(unexpected);
        Assert.Equal(Transfers, completed.Count + refused);
        Assert.True(completed.Count > Transfers / 2, $"only {completed.Count} of {Transfers} transfers completed; the test moves too little money to mean much");
        var balances = await Task.WhenAll(users.Select(u => finance.GetBalanceAsync(new GetBalanceRequest { UserId = u, CurrencyCode = "EUR" }, cancellationToken: Cancel).ResponseAsync));
        Assert.All(balances, b => Assert.True(b.Available.MinorUnits >= 0 && b.Held.MinorUnits == 0, $"{b.UserId}: {b.Available.MinorUnits}/{b.Held.MinorUnits}"));
        Assert.Equal(Accounts * Funding, balances.Sum(b => b.Available.MinorUnits));
        Assert.Empty(await platform.LedgerViolationsAsync());

        var ids = completed.Select(t => t.TransactionId).ToHashSet();
        Assert.Equal(completed.Count, ids.Count);
        var announced = await EventuallyAsync(() => Task.FromResult(TransferEvents(ids)), e => e.Select(x => x.TransactionId).Distinct().Count() == ids.Count,
            TimeSpan.FromMinutes(3), "every completed transfer announced");
        await platform.Subscriber.SettleAsync(_ => false, Settle);
        var final = TransferEvents(ids);
        // At least once means a redelivery may repeat a CloudEvent; a transfer must never be announced under two event IDs.
        Assert.All(final.GroupBy(e => e.TransactionId), g => Assert.Single(g.Select(e => e.EventId).Distinct()));
        Assert.Equal(ids.Order(), final.Select(e => e.TransactionId).Distinct().Order());
    }

    private List<(string TransactionId, string EventId)> TransferEvents(HashSet<string> ids) =>
        [.. platform.Subscriber.All.Where(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(FinanceTopic.TransferCompleted))
            .Select(r => (Finance.V1.Events.MovementCompleted.Parser.ParseJson(r.Event.Data.ToStringUtf8()).TransactionId, r.Event.Id))
            .Where(e => ids.Contains(e.TransactionId))];
}
