using Google.Protobuf.WellKnownTypes;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// The per-recipient rate limit (Notification:EmailLimit, 10 non-critical emails per category an hour) seen through Send's
/// answers, the delivery records and the SMTP server. It reads the shared SMTP server, so it runs in <see cref="MailCollection"/>.
/// </summary>
[Collection(MailCollection.Name)]
public sealed class RateLimitTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Fifty_announcements_at_once_to_one_user_email_ten_throttle_the_other_forty_as_recorded_and_a_critical_alert_still_passes()
    {
        var user = await platform.SignUpAsync();
        var admin = platform.Notification(platform.Admin.AccessToken);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => admin.SendAsync(new SendRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(),
            NotificationKey = "platform.announcement",
            UserIds = { user.Id },
            Data = new Struct { Fields = { ["title"] = Value.ForString($"Flood {i} {user.Id[..8]}"), ["body"] = Value.ForString("Again.") } },
        }, cancellationToken: Cancel).ResponseAsync));

        var emails = answers.Select(a => Assert.Single(a.Messages, m => m.Channel == Channel.Email)).ToList();
        Assert.Equal(10, emails.Count(m => m.Status == MessageStatus.Scheduled));
        Assert.All(emails.Where(m => m.Status != MessageStatus.Scheduled), m => Assert.Equal((MessageStatus.Throttled, "rate_limit"), (m.Status, m.StatusReason)));
        // In-app items are not limited: the inbox makes no noise.
        Assert.All(answers, a => Assert.Equal(MessageStatus.Sent, Assert.Single(a.Messages, m => m.Channel == Channel.InApp).Status));
        var records = platform.Notification(user.AccessToken);
        var throttled = await records.ListMessagesAsync(new ListMessagesRequest { Statuses = { MessageStatus.Throttled }, Page = new() { PageSize = 100 } }, cancellationToken: Cancel);
        Assert.Equal(40, throttled.Messages.Count);
        var sent = await Rpc.EventuallyAsync(() => records.ListMessagesAsync(new ListMessagesRequest { Channels = { Channel.Email }, Statuses = { MessageStatus.Sent }, Category = "announcements", Page = new() { PageSize = 100 } }, cancellationToken: Cancel).ResponseAsync,
            r => r.Messages.Count == 10, what: "the ten emails to be sent");
        Assert.Equal(10, sent.Messages.Count);

        await platform.UserClient(user.AccessToken).ChangePasswordAsync(new Ovasabi.User.V1.ChangePasswordRequest
        {
            UserId = user.Id, CurrentPassword = user.Password, NewPassword = user.Password + " and more",
        }, cancellationToken: Cancel);
        await platform.Mail.WaitForMailAsync("Your password was changed", m => m.GetProperty("to")[0].GetProperty("address").GetString() == user.User.Email, Cancel);
    }
}
