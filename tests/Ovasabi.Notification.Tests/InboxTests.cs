using Grpc.Core;
using Grpc.Health.V1;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.V1;
using Ovasabi.Notification.V1.Events;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Notification.Tests;

/// <summary>Platform events become in-app items; users page, count and mark them through the gateway sidecar.</summary>
public sealed class InboxTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string NewId() => Guid.NewGuid().ToString();

    /// <summary>The user's inbox once it holds <paramref name="count"/> items of <paramref name="key"/> (polled: events arrive on their own).</summary>
    private async Task<ListInboxResponse> InboxWithAsync(SignedInUser user, string key, int count = 1)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var inbox = await platform.Notification(user.AccessToken).ListInboxAsync(new ListInboxRequest { Page = new PageRequest { PageSize = 100 } }, cancellationToken: Cancel);
            var found = inbox.Items.Count(i => i.NotificationKey == key);
            if (found >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, found);
                return inbox;
            }
            await Task.Delay(200, Cancel);
        }
    }

    /// <summary>A signed-up user whose welcome item arrived, so later counts start from one.</summary>
    private async Task<SignedInUser> UserAsync(params string[] roles)
    {
        var user = await platform.SignUpAsync(roles);
        await InboxWithAsync(user, "account.welcome");
        return user;
    }

    [Fact]
    public async Task The_app_is_healthy_and_ready()
    {
        var health = new Health.HealthClient(platform.InvokerVia(platform.GatewaySidecar, "notification", null));

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest(), cancellationToken: Cancel)).Status);
        using var ready = await platform.App("notification").Management.GetAsync("/readyz", Cancel);
        Assert.True(ready.IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_new_user_finds_one_unread_welcome_item_announced_as_created_and_sent()
    {
        var user = await platform.SignUpAsync();

        var inbox = await InboxWithAsync(user, "account.welcome");

        var welcome = Assert.Single(inbox.Items);
        Assert.Equal(($"Welcome to Ovasabi, {user.User.Username}", "account", false, 1), (welcome.Title, welcome.Category, welcome.ReadTime is not null, inbox.UnreadCount));
        await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(NotificationTopic.InappCreated)
                                                    && r.Event.Data.ToStringUtf8().Contains(welcome.MessageId, StringComparison.Ordinal));
        await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(NotificationTopic.MessageSent)
                                                    && r.Event.Data.ToStringUtf8().Contains(welcome.MessageId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_transfer_gives_the_sender_and_the_receiver_an_item_naming_each_other()
    {
        var (alice, bob) = (await UserAsync(), await UserAsync());
        var transaction = NewId();

        await platform.PublishAsFinanceAsync(FinanceTopic.TransferCompleted, NotificationPlatform.Transfer(alice.Id, bob.Id, transaction), NewId());

        var sent = (await InboxWithAsync(alice, "finance.transfer_sent")).Items.Single(i => i.NotificationKey == "finance.transfer_sent");
        var received = (await InboxWithAsync(bob, "finance.transfer_received")).Items.Single(i => i.NotificationKey == "finance.transfer_received");
        Assert.Equal($"You sent 25.00 EUR to {bob.User.Username}", sent.Title);
        Assert.Equal($"{alice.User.Username} sent you 25.00 EUR", received.Title);
        Assert.Contains(transaction, received.BodyText, StringComparison.Ordinal);
        Assert.Equal(transaction, received.Data.Fields["transaction"].StructValue.Fields["id"].StringValue);
    }

    [Fact]
    public async Task The_same_transfer_redelivered_five_times_and_published_again_under_another_id_makes_one_item_each()
    {
        var (alice, bob) = (await UserAsync(), await UserAsync());
        var transfer = NotificationPlatform.Transfer(alice.Id, bob.Id, NewId());
        var eventId = NewId();

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => platform.PublishAsFinanceAsync(FinanceTopic.TransferCompleted, transfer, eventId)));
        await platform.PublishAsFinanceAsync(FinanceTopic.TransferCompleted, transfer, NewId());
        // A later fact for the same users: once it is in, every copy of the first was handled.
        await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(bob.Id, NewId()), NewId());
        await InboxWithAsync(bob, "finance.deposit_completed");

        await InboxWithAsync(alice, "finance.transfer_sent", 1);
        await InboxWithAsync(bob, "finance.transfer_received", 1);
    }

    [Fact]
    public async Task A_low_balance_is_a_critical_item()
    {
        var user = await UserAsync();

        await platform.PublishAsFinanceAsync(FinanceTopic.BalanceLow, new BalanceLow
        {
            UserId = user.Id,
            Available = new Money { CurrencyCode = "EUR", DecimalAmount = "3.00" },
            Threshold = new Money { CurrencyCode = "EUR", DecimalAmount = "10.00" },
        }, NewId());

        var alert = (await InboxWithAsync(user, "finance.balance_low")).Items.Single(i => i.NotificationKey == "finance.balance_low");
        Assert.Equal(("Your balance is low: 3.00 EUR", "balance_alerts", true), (alert.Title, alert.Category, alert.Critical));
    }

    [Fact]
    public async Task Pages_follow_newest_first_filters_narrow_and_marks_move_the_unread_count()
    {
        var user = await UserAsync();
        foreach (var n in Enumerable.Range(1, 4))
        {
            await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), $"{n}.00"), NewId());
            await InboxWithAsync(user, "finance.deposit_completed", n);
        }
        var client = platform.Notification(user.AccessToken);

        var first = await client.ListInboxAsync(new ListInboxRequest { Page = new PageRequest { PageSize = 2 } }, cancellationToken: Cancel);
        var second = await client.ListInboxAsync(new ListInboxRequest { Page = new PageRequest { PageSize = 2, PageToken = first.Page.NextPageToken } }, cancellationToken: Cancel);
        var third = await client.ListInboxAsync(new ListInboxRequest { Page = new PageRequest { PageSize = 2, PageToken = second.Page.NextPageToken } }, cancellationToken: Cancel);
        Assert.Equal(["4.00 EUR deposited", "3.00 EUR deposited", "2.00 EUR deposited", "1.00 EUR deposited", $"Welcome to Ovasabi, {user.User.Username}"],
            first.Items.Concat(second.Items).Concat(third.Items).Select(i => i.Title));
        Assert.Equal("", third.Page.NextPageToken);
        Assert.Equal(4, (await client.ListInboxAsync(new ListInboxRequest { Category = "transactions" }, cancellationToken: Cancel)).Items.Count);

        var read = await client.MarkReadAsync(new MarkReadRequest { MessageIds = { first.Items[0].MessageId, first.Items[1].MessageId }, Read = true }, cancellationToken: Cancel);
        var again = await client.MarkReadAsync(new MarkReadRequest { MessageIds = { first.Items[0].MessageId }, Read = true }, cancellationToken: Cancel);
        Assert.Equal((2, 3), (read.Updated, read.UnreadCount));
        Assert.Equal((0, 3), (again.Updated, again.UnreadCount));
        Assert.Equal(3, (await client.ListInboxAsync(new ListInboxRequest { UnreadOnly = true }, cancellationToken: Cancel)).Items.Count);
        Assert.NotNull((await client.ListInboxAsync(new ListInboxRequest(), cancellationToken: Cancel)).Items[0].ReadTime);

        var unread = await client.MarkReadAsync(new MarkReadRequest { MessageIds = { first.Items[0].MessageId } }, cancellationToken: Cancel);
        Assert.Equal((1, 4), (unread.Updated, unread.UnreadCount));

        var all = await client.MarkAllReadAsync(new MarkAllReadRequest(), cancellationToken: Cancel);
        Assert.Equal((4, 0), (all.Updated, all.UnreadCount));
        Assert.Equal(0, (await client.GetUnreadCountAsync(new GetUnreadCountRequest(), cancellationToken: Cancel)).Unread);
    }

    [Fact]
    public async Task Marking_an_id_that_is_not_the_users_item_is_NotFound_and_changes_nothing()
    {
        var (owner, other) = (await UserAsync(), await UserAsync());
        var mine = (await InboxWithAsync(owner, "account.welcome")).Items[0].MessageId;
        var theirs = (await InboxWithAsync(other, "account.welcome")).Items[0].MessageId;

        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Notification(owner.AccessToken).MarkReadAsync(new MarkReadRequest { MessageIds = { mine, theirs }, Read = true }, cancellationToken: Cancel));

        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Equal(1, (await platform.Notification(owner.AccessToken).GetUnreadCountAsync(new GetUnreadCountRequest(), cancellationToken: Cancel)).Unread);
        Assert.Equal(1, (await platform.Notification(other.AccessToken).GetUnreadCountAsync(new GetUnreadCountRequest(), cancellationToken: Cancel)).Unread);
    }

    [Fact]
    public async Task Support_reads_a_users_inbox_and_cannot_mark_it()
    {
        var (user, support) = (await UserAsync(), await platform.SignUpAsync("support"));

        var inbox = await platform.Notification(support.AccessToken).ListInboxAsync(new ListInboxRequest { UserId = user.Id }, cancellationToken: Cancel);
        var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            await platform.Notification(support.AccessToken).MarkAllReadAsync(new MarkAllReadRequest { UserId = user.Id }, cancellationToken: Cancel));

        Assert.Equal("account.welcome", Assert.Single(inbox.Items).NotificationKey);
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
    }

    public static TheoryData<string, Func<NotificationService.NotificationServiceClient, Task>, string> BadRequests => new()
    {
        { "a page of 101", c => c.ListInboxAsync(new ListInboxRequest { Page = new PageRequest { PageSize = 101 } }).ResponseAsync, "page.page_size" },
        { "an unknown category", c => c.ListInboxAsync(new ListInboxRequest { Category = "gossip" }).ResponseAsync, "category" },
        { "an altered page token", c => c.ListInboxAsync(new ListInboxRequest { Page = new PageRequest { PageToken = "AAAA" } }).ResponseAsync, "page.page_token" },
        { "a user id that is not a UUID", c => c.GetUnreadCountAsync(new GetUnreadCountRequest { UserId = "me" }).ResponseAsync, "user_id" },
        { "no message ids", c => c.MarkReadAsync(new MarkReadRequest()).ResponseAsync, "message_ids" },
        { "101 message ids", c => c.MarkReadAsync(new MarkReadRequest { MessageIds = { Enumerable.Range(0, 101).Select(_ => Guid.NewGuid().ToString()) } }).ResponseAsync, "message_ids" },
        { "a message id that is not a UUID", c => c.MarkReadAsync(new MarkReadRequest { MessageIds = { "x" } }).ResponseAsync, "message_ids[0]" },
        { "a message id of 1 MB", c => c.MarkReadAsync(new MarkReadRequest { MessageIds = { new string('x', 1 << 20) } }).ResponseAsync, "message_ids" },
        { "GetMessage without a message id", c => c.GetMessageAsync(new GetMessageRequest()).ResponseAsync, "message_id" },
        { "GetMessage with a message id that is not a UUID", c => c.GetMessageAsync(new GetMessageRequest { MessageId = "42" }).ResponseAsync, "message_id" },
        { "ListMessages with an unspecified status", c => c.ListMessagesAsync(new ListMessagesRequest { Statuses = { MessageStatus.Unspecified } }).ResponseAsync, "statuses[0]" },
        { "ListMessages with an unknown channel number", c => c.ListMessagesAsync(new ListMessagesRequest { Channels = { (Channel)99 } }).ResponseAsync, "channels[0]" },
        { "ListMessages with an altered page token", c => c.ListMessagesAsync(new ListMessagesRequest { Page = new PageRequest { PageToken = "AAAA" } }).ResponseAsync, "page.page_token" },
        { "ListFailedMessages with a page of 101", c => c.ListFailedMessagesAsync(new ListFailedMessagesRequest { Page = new PageRequest { PageSize = 101 } }).ResponseAsync, "page.page_size" },
        { "CancelMessage without a message id", c => c.CancelMessageAsync(new CancelMessageRequest()).ResponseAsync, "message_id" },
        { "a digest window without a digest key", c => c.SendAsync(new SendRequest { DigestWindow = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromMinutes(1)) }).ResponseAsync, "digest_window" },
        { "a digest window of half a second", c => c.SendAsync(new SendRequest { DigestKey = "k", DigestWindow = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(0.5)) }).ResponseAsync, "digest_window" },
        { "a digest window of 25 hours", c => c.SendAsync(new SendRequest { DigestKey = "k", DigestWindow = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromHours(25)) }).ResponseAsync, "digest_window" },
        { "a digest window of 2 s and -1 ns (not normalized)", c => c.SendAsync(new SendRequest { DigestKey = "k", DigestWindow = new Google.Protobuf.WellKnownTypes.Duration { Seconds = 2, Nanos = -1 } }).ResponseAsync, "digest_window" },
        { "a send time with 2 billion nanoseconds", c => c.SendAsync(new SendRequest { SendAt = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = 1_800_000_000, Nanos = 2_000_000_000 } }).ResponseAsync, "send_at" },
        { "a webhook path with .. inside a segment", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook", Path = "/a..b" }).ResponseAsync, "path" },
        { "a digest key with a space", c => c.SendAsync(new SendRequest { DigestKey = "weekly news" }).ResponseAsync, "digest_key" },
        { "a digest key of 1 MB", c => c.SendAsync(new SendRequest { DigestKey = new string('k', 1 << 20) }).ResponseAsync, "digest_key" },
        { "a webhook through a binding the deployment does not allow", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "email", Path = "/x" }).ResponseAsync, "binding" },
        { "a webhook path climbing out with ..", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook", Path = "/a/../b" }).ResponseAsync, "path" },
        { "a webhook path with a query", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook", Path = "/a?b=c" }).ResponseAsync, "path" },
        { "a webhook path of 1 MB", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook", Path = "/" + new string('a', 1 << 20) }).ResponseAsync, "path" },
        { "a webhook for an unknown category", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook", Path = "/x", Categories = { "gossip" } }).ResponseAsync, "categories[0]" },
        { "a webhook listing a category twice", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook", Path = "/x", Categories = { "security", "security" } }).ResponseAsync, "categories[1]" },
        { "a webhook without a path", c => c.CreateWebhookEndpointAsync(new CreateWebhookEndpointRequest { UserId = NewId(), Binding = "webhook" }).ResponseAsync, "path" },
        { "RotateWebhookSecret with an endpoint id that is not a UUID", c => c.RotateWebhookSecretAsync(new RotateWebhookSecretRequest { UserId = NewId(), EndpointId = "1" }).ResponseAsync, "endpoint_id" },
        { "DeleteWebhookEndpoint with a user id that is not a UUID", c => c.DeleteWebhookEndpointAsync(new DeleteWebhookEndpointRequest { UserId = "nobody", EndpointId = NewId() }).ResponseAsync, "user_id" },
        { "ResendMessage with a message id of 1 MB", c => c.ResendMessageAsync(new ResendMessageRequest { MessageId = new string('x', 1 << 20) }).ResponseAsync, "message_id" },
    };

    // As the administrator, whom authorization lets through whatever user the request names, so the fields are checked.
    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_InvalidArgument_naming_the_field(string tried, Func<NotificationService.NotificationServiceClient, Task> call, string field)
    {
        var refused = await Assert.ThrowsAsync<RpcException>(() => call(platform.Notification(platform.Admin.AccessToken)));

        Assert.True(refused.StatusCode == StatusCode.InvalidArgument, $"{tried}: {refused.Status}");
        Assert.Contains(field, refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(refused.Status.Detail.Length < 600, tried);
    }
}

/// <summary>Security alerts: critical items (and emails) from the user and auth services' events.</summary>
public sealed class SecurityAlertTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private async Task<List<InboxItem>> AlertsAsync(SignedInUser user, string key) =>
        (await platform.Notification(user.AccessToken).ListInboxAsync(new ListInboxRequest { Category = "security" }, cancellationToken: Cancel))
        .Items.Where(i => i.NotificationKey == key).ToList();

    private async Task<List<InboxItem>> AlertsAsync(SignedInUser user, string key, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var alerts = await AlertsAsync(user, key);
            if (alerts.Count >= count || DateTime.UtcNow > deadline)
            {
                Assert.Equal(count, alerts.Count);
                return alerts;
            }
            await Task.Delay(200, Cancel);
        }
    }

    [Fact]
    public async Task A_changed_password_is_a_critical_alert()
    {
        var user = await platform.SignUpAsync();

        await platform.UserClient(user.AccessToken).ChangePasswordAsync(new Ovasabi.User.V1.ChangePasswordRequest
        {
            UserId = user.Id,
            CurrentPassword = user.Password,
            NewPassword = user.Password + " and more",
        }, cancellationToken: Cancel);

        var alert = Assert.Single(await AlertsAsync(user, "security.password_changed", 1));
        Assert.Equal(("Your password was changed", true), (alert.Title, alert.Critical));
    }

    [Fact]
    public async Task The_first_address_is_learnt_silently_a_known_one_is_quiet_and_a_new_one_alerts()
    {
        var (account, password) = await platform.CreateAccountAsync();
        var (known, unknown) = ($"203.0.113.{Random.Shared.Next(1, 255)}", $"198.51.100.{Random.Shared.Next(1, 255)}");
        async Task<Ovasabi.Auth.V1.TokenPair> SignInFrom(string address) =>
            await platform.AuthClient().LoginAsync(new Ovasabi.Auth.V1.LoginRequest { Login = account.Username, Password = password },
                AppPlatform.From(address), cancellationToken: Cancel);

        var tokens = await SignInFrom(known);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (await platform.NotificationScalarAsync<long>("SELECT count(*) FROM service_notification_known_address WHERE user_id = @user", ("user", Guid.Parse(account.UserId))) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the first sign-in was never handled");
            await Task.Delay(100, Cancel);
        }
        await SignInFrom(known);
        await SignInFrom(unknown);

        var user = new SignedInUser(account, password, tokens);
        var alert = Assert.Single(await AlertsAsync(user, "security.new_sign_in", 1));
        Assert.Equal(($"New sign-in from {unknown}", true), (alert.Title, alert.Critical));
        await Task.Delay(1000, Cancel);
        Assert.Single(await AlertsAsync(user, "security.new_sign_in"));
    }
}
