using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Notification.V1;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Notification.Tests;

/// <summary>Send, as an administrator calls it through the gateway: announcements to users, now or later, exactly once per key.</summary>
[Collection(MailCollection.Name)]
public sealed class SendTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private NotificationService.NotificationServiceClient AsAdmin => platform.Notification(platform.Admin.AccessToken);

    private static Struct Announcement(string title, string body = "The platform is down for maintenance tonight.") => new()
    {
        Fields = { ["title"] = Value.ForString(title), ["body"] = Value.ForString(body) },
    };

    private static SendRequest Request(string title, params SignedInUser[] users) => new()
    {
        IdempotencyKey = Guid.NewGuid().ToString(),
        NotificationKey = "platform.announcement",
        UserIds = { users.Select(u => u.Id) },
        Data = Announcement(title),
    };

    private async Task<IReadOnlyList<InboxItem>> AnnouncementsAsync(SignedInUser user) =>
        (await platform.Notification(user.AccessToken).ListInboxAsync(new ListInboxRequest { Category = "announcements" }, cancellationToken: Cancel)).Items;

    [Fact]
    public async Task An_announcement_reaches_each_user_in_app_at_once_and_by_email()
    {
        var (ada, bob) = (await platform.SignUpAsync(), await platform.SignUpAsync());
        var title = $"Maintenance {Guid.NewGuid():N}";

        var response = await AsAdmin.SendAsync(Request(title, ada, bob), cancellationToken: Cancel);

        Assert.False(response.Replayed);
        Assert.Equal([(ada.Id, Channel.Email, MessageStatus.Scheduled), (ada.Id, Channel.InApp, MessageStatus.Sent), (bob.Id, Channel.Email, MessageStatus.Scheduled), (bob.Id, Channel.InApp, MessageStatus.Sent)],
            response.Messages.Select(m => (m.UserId, m.Channel, m.Status)).Order());
        Assert.Equal(title, Assert.Single(await AnnouncementsAsync(ada)).Title);
        var mail = await platform.Mail.WaitForMailAsync(title, Cancel);
        Assert.Contains("<h2>" + title + "</h2>", mail.GetProperty("html").GetString(), StringComparison.Ordinal);
        // One to each: the two go out side by side, so the second may follow the first by a moment.
        await Ovasabi.Testing.Rpc.EventuallyAsync(async () => (await platform.Mail.MailsAsync(Cancel)).Count(m => m.GetProperty("subject").GetString() == title),
            count => count == 2, TimeSpan.FromSeconds(30), "an email to each user");
    }

    [Fact]
    public async Task The_same_key_again_answers_the_first_result_and_sends_nothing_more_and_another_request_under_it_is_refused()
    {
        var ada = await platform.SignUpAsync();
        var request = Request($"Once {Guid.NewGuid():N}", ada);

        var first = await AsAdmin.SendAsync(request, cancellationToken: Cancel);
        var again = await AsAdmin.SendAsync(request, cancellationToken: Cancel);
        var other = request.Clone();
        other.Data = Announcement("Something else");
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await AsAdmin.SendAsync(other, cancellationToken: Cancel));

        Assert.True(again.Replayed);
        Assert.Equal(first.Messages, again.Messages);
        Assert.Single(await AnnouncementsAsync(ada));
        Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
        Assert.Contains("was used for a different request", refused.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_announcement_sent_for_later_shows_and_mails_nothing_before_its_time_and_both_after()
    {
        var ada = await platform.SignUpAsync();
        var title = $"Later {Guid.NewGuid():N}";
        var at = DateTimeOffset.UtcNow.AddSeconds(3);
        var request = Request(title, ada);
        request.SendAt = Timestamp.FromDateTimeOffset(at);

        var response = await AsAdmin.SendAsync(request, cancellationToken: Cancel);

        Assert.All(response.Messages, m => Assert.Equal((MessageStatus.Scheduled, at.ToUnixTimeMilliseconds()), (m.Status, m.DueTime.ToDateTimeOffset().ToUnixTimeMilliseconds())));
        Assert.Empty(await AnnouncementsAsync(ada));
        Assert.Equal(0, (await platform.Mail.MailsAsync(Cancel)).Count(m => m.GetProperty("subject").GetString() == title));
        await platform.Mail.WaitForMailAsync(title, Cancel);
        Assert.True(DateTimeOffset.UtcNow >= at);
        var item = Assert.Single(await AnnouncementsAsync(ada));
        Assert.Equal(at.ToUnixTimeMilliseconds(), item.CreateTime.ToDateTimeOffset().ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task An_announcement_canceled_before_its_time_never_shows_or_mails_and_its_record_says_who_canceled_it()
    {
        var ada = await platform.SignUpAsync();
        var title = $"Canceled {Guid.NewGuid():N}";
        var at = DateTimeOffset.UtcNow.AddSeconds(2);
        var request = Request(title, ada);
        request.SendAt = Timestamp.FromDateTimeOffset(at);
        var response = await AsAdmin.SendAsync(request, cancellationToken: Cancel);

        foreach (var message in response.Messages)
        {
            var canceled = await AsAdmin.CancelMessageAsync(new CancelMessageRequest { MessageId = message.MessageId }, cancellationToken: Cancel);
            Assert.Equal((MessageStatus.Canceled, "canceled"), (canceled.Status, canceled.StatusReason));
            Assert.Equal(MessageStatus.Canceled, canceled.History[^1].Status);
            Assert.StartsWith("user:", canceled.History[^1].Actor, StringComparison.Ordinal);
        }
        var again = await Assert.ThrowsAsync<RpcException>(() => AsAdmin.CancelMessageAsync(new CancelMessageRequest { MessageId = response.Messages[0].MessageId }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition, "MESSAGE_NOT_CANCELABLE"), (again.StatusCode, Ovasabi.Testing.Rpc.Reason(again)));

        // Past its time (its wake-up job has fired), nothing went out.
        await Task.Delay(at - DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2), Cancel);
        Assert.Empty(await AnnouncementsAsync(ada));
        Assert.Equal(0, (await platform.Mail.MailsAsync(Cancel)).Count(m => m.GetProperty("subject").GetString() == title));
    }

    [Fact]
    public async Task A_user_that_does_not_exist_is_NotFound_and_nothing_is_sent_to_the_others()
    {
        var ada = await platform.SignUpAsync();
        var request = Request($"Nobody {Guid.NewGuid():N}", ada);
        request.UserIds.Add(Guid.NewGuid().ToString());

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await AsAdmin.SendAsync(request, cancellationToken: Cancel));

        Assert.Equal(StatusCode.NotFound, refused.StatusCode);
        Assert.Empty(await AnnouncementsAsync(ada));
    }

    public static TheoryData<string, Action<SendRequest>, StatusCode, string> BadRequests => new()
    {
        { "no idempotency key", r => r.IdempotencyKey = "", StatusCode.InvalidArgument, "idempotency_key" },
        { "a key of 129 characters", r => r.IdempotencyKey = new string('k', 129), StatusCode.InvalidArgument, "idempotency_key" },
        { "a key with a space", r => r.IdempotencyKey = "a key", StatusCode.InvalidArgument, "idempotency_key" },
        { "no users", r => r.UserIds.Clear(), StatusCode.InvalidArgument, "user_ids" },
        { "101 users", r => r.UserIds.Add(Enumerable.Range(0, 101).Select(_ => Guid.NewGuid().ToString())), StatusCode.InvalidArgument, "user_ids" },
        { "a user id that is not a UUID", r => r.UserIds.Add("bob"), StatusCode.InvalidArgument, "user_ids[1]" },
        { "a user twice", r => r.UserIds.Add(r.UserIds[0]), StatusCode.InvalidArgument, "user_ids[1]: is listed twice" },
        { "a send time an hour ago", r => r.SendAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(-1)), StatusCode.InvalidArgument, "send_at" },
        { "a send time in 31 days", r => r.SendAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(31)), StatusCode.InvalidArgument, "send_at" },
        { "no notification key", r => r.NotificationKey = "", StatusCode.InvalidArgument, "notification_key" },
        { "a notification that does not exist", r => r.NotificationKey = "platform.nothing", StatusCode.NotFound, "platform.nothing" },
        { "a notification of the platform's events", r => r.NotificationKey = "finance.transfer_received", StatusCode.FailedPrecondition, "comes only from the platform's events" },
        { "no title", r => r.Data.Fields.Remove("title"), StatusCode.InvalidArgument, "data.title: is required" },
        { "no data", r => r.Data = null, StatusCode.InvalidArgument, "data.body: is required" },
        { "a title of 1 MB", r => r.Data.Fields["title"] = Value.ForString(new string('t', 1 << 20)), StatusCode.InvalidArgument, "data" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_input_is_refused_with_a_precise_code_naming_what_is_wrong(string tried, Action<SendRequest> spoil, StatusCode code, string says)
    {
        var request = new SendRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(),
            NotificationKey = "platform.announcement",
            UserIds = { Guid.NewGuid().ToString() },
            Data = Announcement("Bad input"),
        };
        spoil(request);

        var refused = await Assert.ThrowsAsync<RpcException>(async () => await AsAdmin.SendAsync(request, cancellationToken: Cancel));

        Assert.True(refused.StatusCode == code, $"{tried}: {refused.Status}");
        Assert.Contains(says, refused.Status.Detail, StringComparison.Ordinal);
        Assert.True(refused.Status.Detail.Length < 600, tried);
    }
}
