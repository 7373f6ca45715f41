using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Ovasabi.Auth.V1;
using Ovasabi.Common.V1;
using Ovasabi.Finance.V1;
using Ovasabi.Notification.V1;
using Ovasabi.User.V1;

namespace Ovasabi.Demo;

/// <summary>
/// The demo: two users sign up and in, the administrator deposits for the first, who sends part of it to the second
/// (and retries with the same idempotency key); both read their balances, the first its history, both the emails (read
/// back from the SMTP server) and in-app items the transfer gave them, and the second's signed webhook; then what the scenario left behind: the published events and the finance audit rows.
/// </summary>
internal static class Scenario
{
    private const string Currency = "EUR";
    private const long DepositMinor = 100_00;
    private const long TransferMinor = 25_00;

    /// <summary>Runs every step, printing each; 0 when all passed, 1 at the first that failed.</summary>
    public static async Task<int> RunAsync(DemoOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        using var channel = GrpcChannel.ForAddress(options.Sidecar);
        var calls = new SidecarCalls(channel.CreateCallInvoker(), cancellationToken);
        var steps = new Steps(output, options);
        var users = new UserService.UserServiceClient(calls.To(options.UserAppId));
        var auth = new AuthService.AuthServiceClient(calls.To(options.AuthAppId));
        FinanceService.FinanceServiceClient FinanceAs(TokenPair caller) => new(calls.To(options.FinanceAppId, caller.AccessToken));
        NotificationService.NotificationServiceClient NotificationAs(TokenPair caller) => new(calls.To(options.NotificationAppId, caller.AccessToken));

        await output.WriteLineAsync($"ovasabi demo: through the sidecar at {options.Sidecar.GetLeftPart(UriPartial.Authority)} (apps {options.UserAppId}, {options.AuthAppId}, {options.FinanceAppId}, {options.NotificationAppId})");
        try
        {
            // A fresh pair each run, so the demo can be repeated against the same databases.
            var suffix = Guid.NewGuid().ToString("N")[..6];
            var password = $"demo passphrase {suffix}";
            var alice = await steps.RunAsync("register user A (user service)",
                () => users.CreateUserAsync(new CreateUserRequest { Username = $"demo-alice-{suffix}", Email = $"alice-{suffix}@demo.example", Password = password }, calls.Options),
                u => $"{u.Username}, id {u.UserId}");
            var bob = await steps.RunAsync("register user B (user service)",
                () => users.CreateUserAsync(new CreateUserRequest { Username = $"demo-bob-{suffix}", Email = $"bob-{suffix}@demo.example", Password = password }, calls.Options),
                u => $"{u.Username}, id {u.UserId}");
            steps.Name(alice.UserId, "A");
            steps.Name(bob.UserId, "B");

            var aliceTokens = await steps.RunAsync("log in as A (auth service)", () => auth.LoginAsync(new LoginRequest { Login = alice.Username, Password = password }, calls.Options), Session);
            var bobTokens = await steps.RunAsync("log in as B (auth service)", () => auth.LoginAsync(new LoginRequest { Login = bob.Username, Password = password }, calls.Options), Session);
            var adminTokens = await steps.RunAsync($"log in as the administrator {options.AdminLogin}",
                () => auth.LoginAsync(new LoginRequest { Login = options.AdminLogin, Password = options.AdminPassword }, calls.Options), Session);
            steps.Name(AccessToken.Subject(adminTokens.AccessToken), "admin");
            var hookPath = $"/demo/{bob.UserId}";
            var hook = await steps.RunAsync("register a webhook endpoint for B (as admin)",
                () => NotificationAs(adminTokens).CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest
                {
                    UserId = bob.UserId, Binding = options.WebhookBinding, Path = hookPath, Categories = { "transactions" },
                }, calls.Options),
                e => $"{e.Endpoint.Binding} {e.Endpoint.Path}, secret shown once");

            var deposit = await steps.RunAsync($"deposit {Eur(DepositMinor)} to A (as admin)",
                () => FinanceAs(adminTokens).DepositAsync(new DepositRequest
                {
                    IdempotencyKey = Guid.NewGuid().ToString(), UserId = alice.UserId, Amount = Money(DepositMinor), Description = "demo deposit",
                }, calls.Options),
                t => $"transaction {t.TransactionId}");
            steps.Name(deposit.TransactionId, "deposit");

            var transferKey = Guid.NewGuid().ToString();
            var transferRequest = new TransferRequest { IdempotencyKey = transferKey, ToUserId = bob.UserId, Amount = Money(TransferMinor), Description = "demo transfer" };
            var transfer = await steps.RunAsync($"transfer {Eur(TransferMinor)} A → B (as A)",
                () => FinanceAs(aliceTokens).TransferAsync(transferRequest, calls.Options),
                t => $"transaction {t.TransactionId}, idempotency key {transferKey}");
            steps.Name(transfer.TransactionId, "transfer");
            await steps.RunAsync("send the transfer again, same key",
                () => FinanceAs(aliceTokens).TransferAsync(transferRequest, calls.Options),
                t => t.TransactionId == transfer.TransactionId
                    ? "the first answer again, no second transfer"
                    : throw new DemoCheckException($"a second transaction {t.TransactionId} instead of {transfer.TransactionId}"));

            await steps.RunAsync("balance of A (as A)", () => FinanceAs(aliceTokens).GetBalanceAsync(new GetBalanceRequest { CurrencyCode = Currency }, calls.Options),
                b => Expect(b, DepositMinor - TransferMinor));
            await steps.RunAsync("balance of B (as B)", () => FinanceAs(bobTokens).GetBalanceAsync(new GetBalanceRequest { CurrencyCode = Currency }, calls.Options),
                b => Expect(b, TransferMinor));
            var history = await steps.RunAsync("transactions of A (as A)",
                () => FinanceAs(aliceTokens).ListTransactionsAsync(new ListTransactionsRequest { CurrencyCode = Currency }, calls.Options),
                h => h.Transactions.Select(t => t.TransactionId).SequenceEqual([transfer.TransactionId, deposit.TransactionId])
                    ? $"{h.Transactions.Count}, newest first"
                    : throw new DemoCheckException($"expected the transfer and the deposit, got [{string.Join(", ", h.Transactions.Select(t => $"{t.Type} {t.TransactionId}"))}]"));
            foreach (var line in history.Transactions)
            {
                steps.Detail($"{line.Type.ToString().ToLowerInvariant(),-9} {line.Amount.DecimalAmount,8} {line.Amount.CurrencyCode}  {steps.Parties(line.UserId, line.CounterpartyUserId),-6} {line.TransactionId}");
            }

            var sent = await steps.RunAsync("in-app item of A about the transfer (as A)",
                () => InboxItemAsync(NotificationAs(aliceTokens), "finance.transfer_sent", transfer.TransactionId, options.EventTimeout, calls),
                i => $"\"{i.Title}\"");
            var received = await steps.RunAsync("in-app item of B about the transfer (as B)",
                () => InboxItemAsync(NotificationAs(bobTokens), "finance.transfer_received", transfer.TransactionId, options.EventTimeout, calls),
                i => $"\"{i.Title}\"");
            var mailbox = new MailInbox(options.MailApi);
            await steps.RunAsync("emails to A and B (read back from the SMTP server)",
                () => mailbox.WaitForAsync([(alice.Email, $"You sent {Eur(TransferMinor)} to {bob.Username}"), (bob.Email, $"{alice.Username} sent you {Eur(TransferMinor)}")],
                    options.EventTimeout, cancellationToken),
                _ => $"both arrived, web inbox {options.MailApi.GetLeftPart(UriPartial.Authority)}");
            await steps.RunAsync("signed webhook to B (read back from the HTTP sink)",
                () => new WebhookSink(options.HttpSink).WaitForSignedAsync(hookPath, "finance.transfer_received", hook.Secret, options.EventTimeout, cancellationToken),
                id => $"webhook-id {id}, signature verified with the secret");
            await steps.RunAsync("B marks it read (as B)",
                () => NotificationAs(bobTokens).MarkReadAsync(new MarkReadRequest { MessageIds = { received.MessageId }, Read = true }, calls.Options),
                r => r.Updated == 1 ? $"{r.UnreadCount} unread left (the welcome)" : throw new DemoCheckException($"{r.Updated} items changed, not 1"));

            var log = new PlatformRecords(options);
            var events = await steps.RunAsync("events published (user, auth, finance outboxes)",
                () => log.PublishedEventsAsync(
                    [
                        new(options.UserAppId, options.UserDatabase, [alice.UserId, bob.UserId]),
                        new(options.AuthAppId, options.AuthDatabase, [aliceTokens.SessionId, bobTokens.SessionId, adminTokens.SessionId]),
                        new(options.FinanceAppId, options.FinanceDatabase, [deposit.TransactionId, transfer.TransactionId]),
                    ], cancellationToken),
                e => $"{e.Count}, each published by its app's outbox dispatcher");
            foreach (var row in events)
            {
                steps.Detail($"{row.Service,-8} {row.Topic,-27} +{row.PublishDelay.TotalMilliseconds,5:0} ms  {steps.Labelled(row.Payload)}");
            }

            var audit = await steps.RunAsync("finance audit trail (service_finance_audit)",
                () => log.AuditAsync([deposit.TransactionId, transfer.TransactionId], cancellationToken),
                a => a.Count == 2 ? "one row per movement, none for the replay" : throw new DemoCheckException($"expected 2 rows, found {a.Count}"));
            foreach (var row in audit)
            {
                // The snapshot lists accounts in lock order (by account id), which differs from run to run.
                var changes = row.Accounts.Select(a => (Label: steps.Label(a.UserId), a.Before, a.After))
                    .OrderBy(a => a.Label, StringComparer.Ordinal)
                    .Select(a => $"{a.Label} {Eur(a.Before)} → {Eur(a.After)}");
                steps.Detail($"{row.Action,-9} by {steps.Labelled(row.Actor),-15} {string.Join(", ", changes)}");
            }
        }
        catch (StepFailedException)
        {
            await output.WriteLineAsync($"✗ demo failed after {steps.Passed} step(s)");
            return 1;
        }
        await output.WriteLineAsync($"✓ demo passed: {steps.Passed} steps");
        return 0;
    }

    private static string Session(TokenPair tokens) => $"session {tokens.SessionId}";

    /// <summary>The user's in-app item <paramref name="key"/> about the transaction, once the notification service made it from the event.</summary>
    private static async Task<InboxItem> InboxItemAsync(NotificationService.NotificationServiceClient inbox, string key, string transactionId, TimeSpan timeout, SidecarCalls calls)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var items = (await inbox.ListInboxAsync(new ListInboxRequest { Category = "transactions" }, calls.Options)).Items;
            if (items.FirstOrDefault(i => i.NotificationKey == key && i.Data.Fields.TryGetValue("transaction", out var t)
                                          && t.StructValue?.Fields["id"].StringValue == transactionId) is { } item)
            {
                return item;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new DemoCheckException($"no {key} item within {timeout.TotalSeconds:0} s");
            }
            await Task.Delay(200, calls.Options.CancellationToken);
        }
    }

    private static Money Money(long minor) => new() { CurrencyCode = Currency, MinorUnits = minor };

    /// <summary>EUR has two decimals; the demo moves nothing else.</summary>
    private static string Eur(long minor) => $"{minor / 100m:0.00} {Currency}";

    private static string Expect(Balance balance, long minor) =>
        balance.Available.MinorUnits == minor
            ? $"{balance.Available.DecimalAmount} {balance.Available.CurrencyCode} available"
            : throw new DemoCheckException($"expected {Eur(minor)}, got {balance.Available.DecimalAmount} {balance.Available.CurrencyCode}");
}

/// <summary>Calls through the sidecar as an app makes them: <c>dapr-app-id</c> names the target, the caller's token (if any) rides along.</summary>
internal sealed class SidecarCalls(CallInvoker sidecar, CancellationToken cancellationToken)
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);

    /// <summary>A deadline per call, so a hung platform fails the step instead of the demo hanging.</summary>
    public CallOptions Options => new(deadline: DateTime.UtcNow + CallTimeout, cancellationToken: cancellationToken);

    public CallInvoker To(string appId, string? accessToken = null) =>
        sidecar.Intercept(metadata =>
        {
            metadata.Add("dapr-app-id", appId);
            if (accessToken is not null)
            {
                metadata.Add("authorization", $"Bearer {accessToken}");
            }
            return metadata;
        });
}
