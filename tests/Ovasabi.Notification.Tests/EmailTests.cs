using System.Text.Json;
using Dapr.AppCallback.Autogen.Grpc.v1;
using Google.Protobuf;
using Ovasabi.Contracts;
using Ovasabi.Finance.V1.Events;
using Ovasabi.Notification.V1;
using Ovasabi.Notification.V1.Events;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;
using Ovasabi.Testing.Sidecars;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// Email through Dapr's <c>bindings.smtp</c> into a real SMTP server (maildev), read back from it. The outage tests stop
/// that server, so this class's tests run one after another, and never beside the demo's (<see cref="MailCollection"/>).
/// </summary>
[Collection(MailCollection.Name)]
public sealed class EmailTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static string NewId() => Guid.NewGuid().ToString();

    private static string To(JsonElement mail) => mail.GetProperty("to")[0].GetProperty("address").GetString()!;

    /// <summary>Mails with the subject on either SMTP server (after an outage the primary's breaker may still send to the fallback).</summary>
    private async Task<int> MailsWithAsync(string subject) =>
        (await platform.Mail.MailsAsync(Cancel)).Concat(await platform.MailFallback.MailsAsync(Cancel)).Count(m => m.GetProperty("subject").GetString() == subject);

    private async Task<JsonElement> EitherServerAsync(string subject)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var mails = (await platform.Mail.MailsAsync(Cancel)).Concat(await platform.MailFallback.MailsAsync(Cancel)).ToList();
            if (mails.FirstOrDefault(m => m.GetProperty("subject").GetString() == subject) is { ValueKind: JsonValueKind.Object } mail)
            {
                return mail;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no mail '{subject}' on either SMTP server");
            await Task.Delay(100, Cancel);
        }
    }

    private Task<string> EmailStatusAsync(string userId, string key) =>
        platform.NotificationScalarAsync<string>(
            "SELECT status || ':' || attempt_count || ':' || coalesce(status_reason, '') FROM service_notification_message WHERE recipient_user_id = @user AND channel = 'email' AND notification_key = @key",
            ("user", Guid.Parse(userId)), ("key", key));

    private async Task<string> EventuallyAsync(Func<Task<string>> read, Func<string, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            string? value = null;
            try
            {
                value = await read();
            }
            catch (InvalidCastException)
            {
                // no row yet
            }
            if (value is not null && done(value))
            {
                return value;
            }
            Assert.True(DateTime.UtcNow < deadline, $"gave up waiting for {what}; last seen: {value ?? "nothing"}");
            await Task.Delay(100, Cancel);
        }
    }

    [Fact]
    public async Task A_transfer_emails_the_sender_and_the_receiver_html_in_the_layout_and_announces_each_as_sent()
    {
        var (alice, bob) = (await platform.SignUpAsync(), await platform.SignUpAsync());
        var transaction = NewId();

        await platform.PublishAsFinanceAsync(FinanceTopic.TransferCompleted, NotificationPlatform.Transfer(alice.Id, bob.Id, transaction), NewId());

        var sent = await platform.Mail.WaitForMailAsync($"You sent 25.00 EUR to {bob.User.Username}", Cancel);
        var received = await platform.Mail.WaitForMailAsync($"{alice.User.Username} sent you 25.00 EUR", Cancel);
        Assert.Equal((alice.User.Email, bob.User.Email), (To(sent), To(received)));
        var html = received.GetProperty("html").GetString()!;
        Assert.Contains("<strong>25.00 EUR</strong>", html, StringComparison.Ordinal);
        Assert.Contains($"Transaction {transaction}", html, StringComparison.Ordinal);
        Assert.Contains("Ovasabi sent this message about your account.", html, StringComparison.Ordinal);
        Assert.StartsWith("sent:1:", await EventuallyAsync(() => EmailStatusAsync(bob.Id, "finance.transfer_received"), s => s.StartsWith("sent", StringComparison.Ordinal), "the email to be sent"), StringComparison.Ordinal);
        // Its delivery record, as bob reads it: written, handed to the binding, accepted on the first attempt.
        var bobs = platform.Notification(bob.AccessToken);
        var listed = await bobs.ListMessagesAsync(new ListMessagesRequest { Channels = { Channel.Email }, Statuses = { MessageStatus.Sent } }, cancellationToken: Cancel);
        var email = await bobs.GetMessageAsync(new GetMessageRequest { MessageId = Assert.Single(listed.Messages, m => m.NotificationKey == "finance.transfer_received").MessageId }, cancellationToken: Cancel);
        Assert.Equal([MessageStatus.Scheduled, MessageStatus.Sending, MessageStatus.Sent], email.History.Select(h => h.Status));
        Assert.Equal((1, "email", "accepted", "dispatcher"), (email.History[^1].Attempt, email.History[^1].Binding, email.History[^1].Outcome, email.History[^1].Actor));
        Assert.Equal(($"{alice.User.Username} sent you 25.00 EUR", 1), (email.Subject, email.AttemptCount));
        var notHers = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() =>
            platform.Notification(alice.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = email.MessageId }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(Grpc.Core.StatusCode.NotFound, notHers.StatusCode);
        await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(NotificationTopic.MessageSent)
                                                    && r.Event.Data.ToStringUtf8().Contains("CHANNEL_EMAIL", StringComparison.Ordinal)
                                                    && r.Event.Data.ToStringUtf8().Contains(bob.Id, StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_same_transfer_redelivered_five_times_and_under_another_event_id_sends_one_email_to_each()
    {
        var (alice, bob) = (await platform.SignUpAsync(), await platform.SignUpAsync());
        var transfer = NotificationPlatform.Transfer(alice.Id, bob.Id, NewId());
        var eventId = NewId();

        await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => platform.PublishAsFinanceAsync(FinanceTopic.TransferCompleted, transfer, eventId)));
        await platform.PublishAsFinanceAsync(FinanceTopic.TransferCompleted, transfer, NewId());
        await platform.Mail.WaitForMailAsync($"You sent 25.00 EUR to {bob.User.Username}", Cancel);
        await platform.Mail.WaitForMailAsync($"{alice.User.Username} sent you 25.00 EUR", Cancel);
        // A later fact for the receiver: once its email is in, every copy of the first was handled (emails of one batch
        // go out side by side, so the first two are awaited on their own above).
        await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(bob.Id, NewId(), "7.00"), NewId());
        await platform.Mail.WaitForMailAsync("7.00 EUR deposited", Cancel);

        Assert.Equal(1, await MailsWithAsync($"You sent 25.00 EUR to {bob.User.Username}"));
        Assert.Equal(1, await MailsWithAsync($"{alice.User.Username} sent you 25.00 EUR"));
    }

    [Fact]
    public async Task The_same_event_delivered_to_two_replicas_at_once_makes_one_item_and_one_email_for_each_party()
    {
        var (alice, bob) = (await platform.SignUpAsync(), await platform.SignUpAsync());
        await using var replica = await AppProcess.StartAsync(NotificationPlatform.NotificationAppId, FreePort.Next(),
            platform.Sidecar(NotificationPlatform.NotificationAppId), platform.Settings(NotificationPlatform.NotificationAppId), Cancel);
        var delivery = new TopicEventRequest
        {
            Id = NewId(),
            Source = FinancePlatform.FinanceAppId,
            Type = TopicName.Of(FinanceTopic.TransferCompleted),
            SpecVersion = "1.0",
            DataContentType = "application/json",
            Topic = TopicName.Of(FinanceTopic.TransferCompleted),
            PubsubName = "pubsub",
            Data = ByteString.CopyFromUtf8(JsonFormatter.Default.Format(NotificationPlatform.Transfer(alice.Id, bob.Id, NewId()))),
        };

        // As the two replicas' sidecars would deliver it, at the same moment.
        var answers = await Task.WhenAll(new[] { platform.App(NotificationPlatform.NotificationAppId), replica }
            .Select(app => new AppCallbackClient(platform.Direct(app)).OnTopicEventAsync(delivery, Cancel)));

        Assert.All(answers, a => Assert.Equal(TopicEventResponse.Types.TopicEventResponseStatus.Success, a.Status));
        await platform.Mail.WaitForMailAsync($"{alice.User.Username} sent you 25.00 EUR", Cancel);
        await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(bob.Id, NewId(), "19.00"), NewId());
        await platform.Mail.WaitForMailAsync("19.00 EUR deposited", Cancel);
        Assert.Equal(1, await MailsWithAsync($"You sent 25.00 EUR to {bob.User.Username}"));
        Assert.Equal(1, await MailsWithAsync($"{alice.User.Username} sent you 25.00 EUR"));
        Assert.Equal(4L, await platform.NotificationScalarAsync<long>(
            "SELECT count(*) FROM service_notification_message WHERE notification_key IN ('finance.transfer_sent', 'finance.transfer_received') AND recipient_user_id IN (@a, @b)",
            ("a", Guid.Parse(alice.Id)), ("b", Guid.Parse(bob.Id))));
    }

    private async Task StopBothAsync()
    {
        await platform.Mail.StopAsync(Cancel);
        await platform.MailFallback.StopAsync(Cancel);
    }

    private async Task StartBothAsync()
    {
        await platform.Mail.StartAsync(Cancel);
        await platform.MailFallback.StartAsync(Cancel);
        await BreakersMayCloseAsync();
    }

    /// <summary>
    /// Outlives the breakers' open state, so the next send tries the primary again and closes its breaker: the class's
    /// next test (and the demo's) find mail on the primary server, where they look.
    /// </summary>
    private static Task BreakersMayCloseAsync() => Task.Delay(NotificationPlatform.BreakDuration + TimeSpan.FromSeconds(0.5), Cancel);

    [Fact]
    public async Task With_the_smtp_server_down_the_fallback_binding_sends_and_the_record_shows_both_answers()
    {
        var user = await platform.SignUpAsync();
        await platform.Mail.WaitForMailAsync($"Welcome to Ovasabi, {user.User.Username}", Cancel);
        await platform.Mail.StopAsync(Cancel);
        try
        {
            await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), "19.00"), NewId());
            Assert.Equal(user.User.Email, To(await platform.MailFallback.WaitForMailAsync("19.00 EUR deposited", Cancel)));
        }
        finally
        {
            await platform.Mail.StartAsync(Cancel);
            await BreakersMayCloseAsync();
        }

        Assert.Equal("sent:1:", await EventuallyAsync(() => EmailStatusAsync(user.Id, "finance.deposit_completed"), s => s.StartsWith("sent", StringComparison.Ordinal), "the email to be recorded sent"));
        var records = platform.Notification(user.AccessToken);
        var email = Assert.Single((await records.ListMessagesAsync(new ListMessagesRequest { Channels = { Channel.Email }, Category = "transactions" }, cancellationToken: Cancel)).Messages);
        var history = (await records.GetMessageAsync(new GetMessageRequest { MessageId = email.MessageId }, cancellationToken: Cancel)).History;
        var bindings = history.Where(h => h.Outcome.Length > 0).Select(h => (h.Attempt, h.Binding, h.Outcome)).ToList();
        Assert.Equal([(1, "email", "transient"), (1, "email-fallback", "accepted")], bindings);
    }

    [Fact]
    public async Task With_both_smtp_servers_down_an_email_is_retried_and_sent_once_they_are_back()
    {
        var user = await platform.SignUpAsync();
        await platform.Mail.WaitForMailAsync($"Welcome to Ovasabi, {user.User.Username}", Cancel);
        await StopBothAsync();
        try
        {
            await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), "11.00"), NewId());
            await EventuallyAsync(() => EmailStatusAsync(user.Id, "finance.deposit_completed"), s => s.StartsWith("scheduled:2:", StringComparison.Ordinal), "a second failed attempt");
        }
        finally
        {
            await StartBothAsync();
        }

        var status = await EventuallyAsync(() => EmailStatusAsync(user.Id, "finance.deposit_completed"), s => s.StartsWith("sent", StringComparison.Ordinal), "the retried email to be sent");
        // Sent on a later attempt than the two that failed, and before the last one ran out.
        var attempts = int.Parse(status.Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(attempts, 3, NotificationPlatform.MaxAttempts);
        Assert.Equal($"sent:{attempts}:", status);
        Assert.Equal(user.User.Email, To(await EitherServerAsync("11.00 EUR deposited")));
    }

    [Fact]
    public async Task With_both_smtp_servers_down_through_every_attempt_the_email_fails_with_the_last_error_and_is_announced()
    {
        var user = await platform.SignUpAsync();
        await platform.Mail.WaitForMailAsync($"Welcome to Ovasabi, {user.User.Username}", Cancel);
        await StopBothAsync();
        string status;
        try
        {
            await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), "13.00"), NewId());
            status = await EventuallyAsync(() => EmailStatusAsync(user.Id, "finance.deposit_completed"), s => s.StartsWith("failed", StringComparison.Ordinal), "the email to fail");
        }
        finally
        {
            await StartBothAsync();
        }

        // The last binding's answer: its error, or the skip while its breaker was open.
        Assert.Matches($"^failed:{NotificationPlatform.MaxAttempts}:(error invoking output binding email-fallback: |skipped: binding email-fallback keeps failing)", status);
        await platform.Subscriber.WaitForAsync(r => r.Kind == "event" && r.Event.Topic == TopicName.Of(NotificationTopic.MessageFailed)
                                                    && r.Event.Data.ToStringUtf8().Contains(user.Id, StringComparison.Ordinal));
        // Failed is final: a later deposit's email arrives, this one never does on its own.
        await platform.PublishAsFinanceAsync(FinanceTopic.DepositCompleted, NotificationPlatform.Deposit(user.Id, NewId(), "17.00"), NewId());
        await EitherServerAsync("17.00 EUR deposited");
        Assert.Equal(0, await MailsWithAsync("13.00 EUR deposited"));

        // The record shows every attempt with the provider's answer; support finds it among the failures; an admin resends it.
        var admin = platform.Notification(platform.Admin.AccessToken);
        var failed = Assert.Single((await admin.ListMessagesAsync(new ListMessagesRequest { UserId = user.Id, Statuses = { MessageStatus.Failed } }, cancellationToken: Cancel)).Messages);
        var record = await platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = failed.MessageId }, cancellationToken: Cancel);
        var attempts = record.History.Where(h => h.Outcome.Length > 0).ToList();
        // Each attempt tried both bindings in order; each answer (or the skip of an open breaker) is kept.
        Assert.Equal(Enumerable.Range(1, NotificationPlatform.MaxAttempts).SelectMany(n => new[] { (n, "email"), (n, "email-fallback") }), attempts.Select(a => (a.Attempt, a.Binding)));
        Assert.All(attempts, a => Assert.Equal("transient", a.Outcome));
        Assert.Contains(attempts, a => a.Reason.StartsWith("error invoking output binding email: ", StringComparison.Ordinal));
        Assert.Equal(MessageStatus.Failed, record.History[^1].Status);
        var support = await platform.SignUpAsync("support");
        var failures = await platform.Notification(support.AccessToken).ListFailedMessagesAsync(new ListFailedMessagesRequest { Page = new() { PageSize = 100 } }, cancellationToken: Cancel);
        Assert.Contains(failures.Messages, m => m.MessageId == failed.MessageId);

        var resent = await admin.ResendMessageAsync(new ResendMessageRequest { MessageId = failed.MessageId }, cancellationToken: Cancel);
        Assert.Equal((MessageStatus.Scheduled, "resent", 0), (resent.Status, resent.StatusReason, resent.AttemptCount));
        Assert.Equal(user.User.Email, To(await EitherServerAsync("13.00 EUR deposited")));
        var sent = await EventuallyAsync(() => EmailStatusAsync(user.Id, "finance.deposit_completed"), s => s.StartsWith("sent", StringComparison.Ordinal), "the resent email to be sent");
        // Counted afresh from the resend: the first attempt, or a later one if both breakers were still open from the outage.
        Assert.Matches("^sent:[1-3]:$", sent);
        var again = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => admin.ResendMessageAsync(new ResendMessageRequest { MessageId = failed.MessageId }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal((Grpc.Core.StatusCode.FailedPrecondition, "MESSAGE_NOT_RESENDABLE"), (again.StatusCode, Rpc.Reason(again)));
    }
}

/// <summary>The classes that read the platform's SMTP server; the outage tests stop it, so they take turns.</summary>
[CollectionDefinition(Name)]
public sealed class MailCollection
{
    public const string Name = "the platform's SMTP server";
}
