using Google.Protobuf.WellKnownTypes;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;
using Ovasabi.Testing.Platform;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// Digests: announcements sent with one digest key within its window reach the user as one email (read back from the
/// SMTP server), each keeping its own record. They read the shared SMTP server, so they run in <see cref="MailCollection"/>.
/// </summary>
[Collection(MailCollection.Name)]
public sealed class DigestTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private Task<SendResponse> AnnounceAsync(string userId, string title, string digestKey, TimeSpan window) =>
        platform.Notification(platform.Admin.AccessToken).SendAsync(new SendRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(),
            NotificationKey = "platform.announcement",
            UserIds = { userId },
            Data = new Struct { Fields = { ["title"] = Value.ForString(title), ["body"] = Value.ForString($"About {title}.") } },
            DigestKey = digestKey,
            DigestWindow = Duration.FromTimeSpan(window),
        }, cancellationToken: Cancel).ResponseAsync;

    private static MessageSummary Email(SendResponse response) => Assert.Single(response.Messages, m => m.Channel == Channel.Email);

    [Fact]
    public async Task Five_announcements_with_one_digest_key_arrive_as_one_email_listing_them_and_each_record_names_it()
    {
        var user = await platform.SignUpAsync();
        var tag = Guid.NewGuid().ToString("N")[..6];
        var key = "weekly-" + tag;
        // At once, and a window of 6 s: on a loaded machine five Sends one after another could outlast a short window.
        var sent = await Task.WhenAll(Enumerable.Range(1, 5).Select(i => AnnounceAsync(user.Id, $"Item {i} {tag}", key, TimeSpan.FromSeconds(6))));

        var mail = await platform.Mail.WaitForMailAsync("5 new notifications", m => m.GetProperty("to")[0].GetProperty("address").GetString() == user.User.Email, Cancel);
        await Task.Delay(Rpc.Settle, Cancel);

        Assert.All(sent, s => Assert.Equal(MessageStatus.Scheduled, Email(s).Status));
        Assert.All(sent, s => Assert.Equal(MessageStatus.Sent, Assert.Single(s.Messages, m => m.Channel == Channel.InApp).Status));
        var text = mail.GetProperty("text").GetString()!;
        Assert.All(Enumerable.Range(1, 5), i => Assert.Contains($"- Item {i} {tag}: About Item {i} {tag}.", text, StringComparison.Ordinal));
        var toUser = (await platform.Mail.MailsAsync(Cancel)).Where(m => m.GetProperty("to")[0].GetProperty("address").GetString() == user.User.Email).ToList();
        Assert.Equal(["5 new notifications"], toUser.Select(m => m.GetProperty("subject").GetString()).Where(s => s != $"Welcome to Ovasabi, {user.User.Username}"));
        var client = platform.Notification(user.AccessToken);
        var item = await client.GetMessageAsync(new GetMessageRequest { MessageId = Email(sent[0]).MessageId }, cancellationToken: Cancel);
        Assert.Equal(MessageStatus.Digested, item.Status);
        var digest = await Rpc.EventuallyAsync(() => client.GetMessageAsync(new GetMessageRequest { MessageId = item.StatusReason["digest:".Length..] }, cancellationToken: Cancel).ResponseAsync,
            m => m.Status == MessageStatus.Sent, what: "the digest to be recorded sent");
        Assert.Equal(("digest.default", "announcements", "5 new notifications"), (digest.NotificationKey, digest.Category, digest.Subject));
        Assert.Equal(5, (await client.ListInboxAsync(new ListInboxRequest { Category = "announcements" }, cancellationToken: Cancel)).Items.Count);
    }

    [Fact]
    public async Task A_lone_email_in_a_digest_goes_out_as_itself_when_the_window_closes()
    {
        var user = await platform.SignUpAsync();
        var title = "Alone " + Guid.NewGuid().ToString("N")[..6];

        var sent = await AnnounceAsync(user.Id, title, "solo", TimeSpan.FromSeconds(1));
        await platform.Mail.WaitForMailAsync(title, Cancel);

        var record = await Rpc.EventuallyAsync(() => platform.Notification(user.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = Email(sent).MessageId }, cancellationToken: Cancel).ResponseAsync,
            m => m.Status == MessageStatus.Sent, what: "the lone email to be recorded sent");
        Assert.InRange(Email(sent).DueTime.ToDateTimeOffset() - record.CreateTime.ToDateTimeOffset(), TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(1.1));
    }
}
