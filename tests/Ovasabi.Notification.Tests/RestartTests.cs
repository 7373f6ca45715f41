using Google.Protobuf.WellKnownTypes;
using Ovasabi.Notification.V1;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// A message due later outlives restarts: its row is in PostgreSQL and its wake-up job in the scheduler. These tests
/// restart the notification app and its sidecar, so they run alone (<see cref="RestartCollection"/>).
/// </summary>
[Collection(RestartCollection.Name)]
public sealed class RestartTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_message_sent_for_later_goes_out_after_the_app_and_then_its_sidecar_restart_woken_by_its_job()
    {
        var ada = await platform.SignUpAsync();
        var title = $"After restarts {Guid.NewGuid():N}";
        // Far enough ahead for two restarts on a loaded machine (they took over 8 s on a fresh-clone run).
        var at = DateTimeOffset.UtcNow.AddSeconds(25);

        await platform.Notification(platform.Admin.AccessToken).SendAsync(new SendRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(),
            NotificationKey = "platform.announcement",
            UserIds = { ada.Id },
            Data = new Struct { Fields = { ["title"] = Value.ForString(title), ["body"] = Value.ForString("Still here.") } },
            SendAt = Timestamp.FromDateTimeOffset(at),
        }, cancellationToken: Cancel);
        await platform.RestartAppAsync(NotificationPlatform.NotificationAppId);
        await platform.RestartSidecarAsync(NotificationPlatform.NotificationAppId);
        Assert.True(DateTimeOffset.UtcNow < at, "the restarts took longer than the wait they were to fall into");

        // The sweep runs once a minute in these tests: only the wake-up job can bring it within 20 s of its time.
        var mail = await MailAsync(title, at + TimeSpan.FromSeconds(20));
        Assert.Equal(ada.User.Email, mail.GetProperty("to")[0].GetProperty("address").GetString());
        var inbox = await platform.Notification(ada.AccessToken).ListInboxAsync(new ListInboxRequest { Category = "announcements" }, cancellationToken: Cancel);
        Assert.Equal(title, Assert.Single(inbox.Items).Title);
    }

    private async Task<System.Text.Json.JsonElement> MailAsync(string subject, DateTimeOffset deadline)
    {
        while (true)
        {
            var mail = (await platform.Mail.MailsAsync(Cancel)).FirstOrDefault(m => m.GetProperty("subject").GetString() == subject);
            if (mail.ValueKind == System.Text.Json.JsonValueKind.Object)
            {
                return mail;
            }
            Assert.True(DateTimeOffset.UtcNow < deadline, $"no mail '{subject}' by {deadline:O}");
            await Task.Delay(250, Cancel);
        }
    }
}

/// <summary>Tests that restart the notification app or its sidecar: they run after the others, one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RestartCollection
{
    public const string Name = "restarts of the notification app";
}
