using System.Text.RegularExpressions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Notification.V1;
using Ovasabi.Testing;

namespace Ovasabi.Notification.Tests;

/// <summary>
/// Preferences as a user sets them, seen in what the service then does: Send's answer says what each message became
/// (sent, scheduled until when, suppressed and why), the inbox and the SMTP server show what arrived. The mail test
/// reads from the shared SMTP server, so it runs in <see cref="MailCollection"/>.
/// </summary>
[Collection(MailCollection.Name)]
public sealed partial class PreferenceTests(NotificationPlatform platform)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private static FieldMask Mask(params string[] paths) => new() { Paths = { paths } };

    private Task<SendResponse> AnnounceAsync(string userId, string title) =>
        platform.Notification(platform.Admin.AccessToken).SendAsync(new SendRequest
        {
            IdempotencyKey = Guid.NewGuid().ToString(),
            NotificationKey = "platform.announcement",
            UserIds = { userId },
            Data = new Struct { Fields = { ["title"] = Value.ForString(title), ["body"] = Value.ForString("Read this.") } },
        }, cancellationToken: Cancel).ResponseAsync;

    private static MessageSummary On(SendResponse response, Channel channel) => Assert.Single(response.Messages, m => m.Channel == channel);

    [Fact]
    public async Task A_user_reads_the_defaults_turns_off_announcements_by_email_and_the_next_one_is_suppressed_but_kept_while_the_inbox_still_gets_it()
    {
        var alice = await platform.SignUpAsync();
        var client = platform.Notification(alice.AccessToken);

        var defaults = await client.GetPreferencesAsync(new GetPreferencesRequest(), cancellationToken: Cancel);
        Assert.Equal((0L, false, "UTC", "en"), (defaults.Version, defaults.GlobalMute, defaults.EffectiveTimeZone, defaults.EffectiveLocale));
        Assert.All(defaults.Rules, r => Assert.True(r.Enabled));
        Assert.Equal(["balance_alerts", "security"], defaults.Categories.Where(c => c.Critical).Select(c => c.Name));
        Assert.All(defaults.Rules.Where(r => r.Category is "security" or "balance_alerts"), r => Assert.True(r.Locked));

        var updated = await client.UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences { Rules = { new CategoryChannelRule { Category = "announcements", Channel = Channel.Email, Enabled = false } } },
            UpdateMask = Mask("rules"),
            ExpectedVersion = 0,
        }, cancellationToken: Cancel);
        Assert.Equal(1, updated.Version);
        var rule = Assert.Single(updated.Rules, r => r.Category == "announcements" && r.Channel == Channel.Email);
        Assert.Equal((false, "user"), (rule.Enabled, rule.Source));

        var sent = await AnnounceAsync(alice.Id, "Maintenance tonight " + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal((MessageStatus.Suppressed, "preference"), (On(sent, Channel.Email).Status, On(sent, Channel.Email).StatusReason));
        Assert.Equal(MessageStatus.Sent, On(sent, Channel.InApp).Status);
        var inbox = await client.ListInboxAsync(new ListInboxRequest(), cancellationToken: Cancel);
        Assert.Contains(inbox.Items, i => i.MessageId == On(sent, Channel.InApp).MessageId);

        var stale = await Assert.ThrowsAsync<RpcException>(() => client.UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences { GlobalMute = true }, UpdateMask = Mask("global_mute"), ExpectedVersion = 0,
        }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition, "VERSION_CONFLICT"), (stale.StatusCode, Rpc.Reason(stale)));
    }

    [Fact]
    public async Task A_critical_category_cannot_be_turned_off_and_global_mute_silences_everything_else_on_every_channel()
    {
        var bob = await platform.SignUpAsync();
        var client = platform.Notification(bob.AccessToken);

        var refused = await Assert.ThrowsAsync<RpcException>(() => client.UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences { Rules = { new CategoryChannelRule { Category = "security", Channel = Channel.Email, Enabled = false } } },
            UpdateMask = Mask("rules"),
        }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition, "CATEGORY_CRITICAL"), (refused.StatusCode, Rpc.Reason(refused)));
        Assert.Equal(0, (await client.GetPreferencesAsync(new GetPreferencesRequest(), cancellationToken: Cancel)).Version);

        await client.UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences { GlobalMute = true }, UpdateMask = Mask("global_mute"),
        }, cancellationToken: Cancel);
        var sent = await AnnounceAsync(bob.Id, "Muted " + Guid.NewGuid().ToString("N")[..6]);
        Assert.All(sent.Messages, m => Assert.Equal((MessageStatus.Suppressed, "muted"), (m.Status, m.StatusReason)));
        Assert.DoesNotContain((await client.ListInboxAsync(new ListInboxRequest(), cancellationToken: Cancel)).Items, i => i.NotificationKey == "platform.announcement");

        // A security alert still reaches the muted user, by email too, and carries no unsubscribe link.
        await platform.UserClient(bob.AccessToken).ChangePasswordAsync(new Ovasabi.User.V1.ChangePasswordRequest
        {
            UserId = bob.Id, CurrentPassword = bob.Password, NewPassword = bob.Password + " and more",
        }, cancellationToken: Cancel);
        var mail = await platform.Mail.WaitForMailAsync("Your password was changed", m => m.GetProperty("to")[0].GetProperty("address").GetString() == bob.User.Email, Cancel);
        Assert.DoesNotContain("unsubscribe", mail.GetProperty("html").GetString()!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_announcement_goes_out_through_the_MailKit_relay_as_text_and_html_with_one_click_unsubscribe_headers_naming_the_bodys_link()
    {
        var dora = await platform.SignUpAsync();
        var title = "Bulk " + Guid.NewGuid().ToString("N")[..8];
        var sent = await AnnounceAsync(dora.Id, title);

        var mail = await platform.Mail.WaitForMailAsync(title, Cancel);
        var source = await platform.Mail.SourceAsync(mail.GetProperty("id").GetString()!, Cancel);
        // The header block as it arrived, folded lines joined.
        var headers = source[..source.IndexOf("\r\n\r\n", StringComparison.Ordinal)].Replace("\r\n ", " ", StringComparison.Ordinal).Replace("\r\n\t", " ", StringComparison.Ordinal)
            .Split("\r\n").Select(line => line.Split(':', 2)).ToLookup(h => h[0].ToLowerInvariant(), h => h[1].Trim());
        var link = System.Net.WebUtility.HtmlDecode(UnsubscribeLink().Match(mail.GetProperty("html").GetString()!).Groups["url"].Value);
        Assert.Equal([$"<{link}>"], headers["list-unsubscribe"]);
        Assert.Equal(["List-Unsubscribe=One-Click"], headers["list-unsubscribe-post"]);
        Assert.Equal(["auto-generated"], headers["auto-submitted"]);
        Assert.Equal([$"<{On(sent, Channel.Email).MessageId}@ovasabi.test>"], headers["message-id"]);
        Assert.StartsWith("multipart/alternative", Assert.Single(headers["content-type"]), StringComparison.Ordinal);
        var text = mail.GetProperty("text").GetString()!;
        Assert.Contains("Read this.", text, StringComparison.Ordinal);
        Assert.Contains($"Unsubscribe: {link}", text, StringComparison.Ordinal);
        var record = await Rpc.EventuallyAsync(() => platform.Notification(dora.AccessToken).GetMessageAsync(new GetMessageRequest { MessageId = On(sent, Channel.Email).MessageId }, cancellationToken: Cancel).ResponseAsync,
            m => m.Status == MessageStatus.Sent, what: "the email to be recorded sent");
        Assert.Equal("relay", record.History[^1].Binding);
    }

    [Fact]
    public async Task The_unsubscribe_link_of_an_email_works_once_without_signing_in_and_an_altered_one_is_refused()
    {
        var carol = await platform.SignUpAsync();
        var title = "Newsletter " + Guid.NewGuid().ToString("N")[..8];
        await AnnounceAsync(carol.Id, title);
        var mail = await platform.Mail.WaitForMailAsync(title, Cancel);
        var link = UnsubscribeLink().Match(mail.GetProperty("html").GetString()!);
        Assert.True(link.Success, "the email carries an unsubscribe link");
        Assert.StartsWith("http://localhost:8080/unsubscribe?token=", link.Groups["url"].Value, StringComparison.Ordinal);
        var token = Uri.UnescapeDataString(link.Groups["token"].Value);
        var anonymous = platform.Notification();

        var altered = await Assert.ThrowsAsync<RpcException>(() => anonymous.UnsubscribeAsync(new UnsubscribeRequest { Token = token[..^2] + (token[^2] == 'A' ? "B" : "A") + token[^1] }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, altered.StatusCode);
        Assert.Contains("is not a valid unsubscribe link", altered.Status.Detail, StringComparison.Ordinal);

        var done = await anonymous.UnsubscribeAsync(new UnsubscribeRequest { Token = token }, cancellationToken: Cancel);
        Assert.Equal(("announcements", Channel.Email), (done.Category, done.Channel));
        var again = await Assert.ThrowsAsync<RpcException>(() => anonymous.UnsubscribeAsync(new UnsubscribeRequest { Token = token }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition, "UNSUBSCRIBE_LINK_USED"), (again.StatusCode, Rpc.Reason(again)));

        var prefs = await platform.Notification(carol.AccessToken).GetPreferencesAsync(new GetPreferencesRequest(), cancellationToken: Cancel);
        Assert.Equal((false, "unsubscribe"), Assert.Single(prefs.Rules, r => r.Category == "announcements" && r.Channel == Channel.Email) is var r ? (r.Enabled, r.Source) : default);
        var next = await AnnounceAsync(carol.Id, "After unsubscribing");
        Assert.Equal((MessageStatus.Suppressed, "unsubscribed"), (On(next, Channel.Email).Status, On(next, Channel.Email).StatusReason));
    }

    [Fact]
    public async Task Quiet_hours_hold_email_until_they_end_in_the_users_zone_while_the_inbox_gets_it_at_once()
    {
        var dave = await platform.SignUpAsync();
        // Kolkata is UTC+05:30 all year: quiet hours from an hour ago to two hours ahead there, whatever the hour.
        var offset = TimeSpan.FromMinutes(330);
        var local = DateTimeOffset.UtcNow.ToOffset(offset);
        var (start, end) = (local.AddHours(-1).ToString("HH:mm"), local.AddHours(2).ToString("HH:mm"));
        var prefs = await platform.Notification(dave.AccessToken).UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences { QuietHours = new QuietHours { Start = start, End = end }, TimeZone = "Asia/Kolkata" },
            UpdateMask = Mask("quiet_hours", "time_zone"),
        }, cancellationToken: Cancel);
        Assert.Equal(("Asia/Kolkata", start, end), (prefs.EffectiveTimeZone, prefs.QuietHours.Start, prefs.QuietHours.End));

        var before = DateTimeOffset.UtcNow;
        var sent = await AnnounceAsync(dave.Id, "Quiet " + Guid.NewGuid().ToString("N")[..6]);
        var email = On(sent, Channel.Email);
        Assert.Equal(MessageStatus.Scheduled, email.Status);
        var endLocal = new DateTimeOffset(local.Date + TimeSpan.Parse(end, System.Globalization.CultureInfo.InvariantCulture), offset);
        Assert.Equal(endLocal > local ? endLocal : endLocal.AddDays(1), email.DueTime.ToDateTimeOffset());
        Assert.Equal(MessageStatus.Sent, On(sent, Channel.InApp).Status);
        Assert.True(On(sent, Channel.InApp).DueTime.ToDateTimeOffset() < before.AddMinutes(1));
    }

    [Fact]
    public async Task Preferences_with_bad_input_name_every_bad_field_and_change_nothing()
    {
        var erin = await platform.SignUpAsync();
        var client = platform.Notification(erin.AccessToken);
        var bad = await Assert.ThrowsAsync<RpcException>(() => client.UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences
            {
                QuietHours = new QuietHours { Start = "25:00", End = "07:00" },
                TimeZone = "Mars/Olympus_Mons",
                Locale = "fr_CA",
                Rules =
                {
                    new CategoryChannelRule { Category = "gossip", Channel = Channel.Email, Enabled = false },
                    new CategoryChannelRule { Category = "transactions", Channel = Channel.Unspecified, Enabled = false },
                },
            },
            UpdateMask = Mask("quiet_hours", "time_zone", "locale", "rules", "password"),
        }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal(["preferences.locale", "preferences.quiet_hours.start", "preferences.rules[0].category", "preferences.rules[1].channel", "preferences.time_zone", "update_mask.paths[4]"],
            Rpc.Violations(bad).Select(v => v.Field).Order(StringComparer.Ordinal));

        var empty = await Assert.ThrowsAsync<RpcException>(() => client.UpdatePreferencesAsync(new UpdatePreferencesRequest(), cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        var huge = await Assert.ThrowsAsync<RpcException>(() => client.UpdatePreferencesAsync(new UpdatePreferencesRequest
        {
            Preferences = new NotificationPreferences { Locale = new string('a', 1 << 20) }, UpdateMask = Mask("locale"),
        }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, huge.StatusCode);
        Assert.True(huge.Status.Detail.Length < 500, "the error does not echo the field");
        var noToken = await Assert.ThrowsAsync<RpcException>(() => platform.Notification().UnsubscribeAsync(new UnsubscribeRequest(), cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, noToken.StatusCode);
        var longToken = await Assert.ThrowsAsync<RpcException>(() => platform.Notification().UnsubscribeAsync(new UnsubscribeRequest { Token = new string('u', 5000) }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, longToken.StatusCode);
        var nobody = await Assert.ThrowsAsync<RpcException>(() => platform.Notification(platform.Admin.AccessToken)
            .GetPreferencesAsync(new GetPreferencesRequest { UserId = Guid.NewGuid().ToString() }, cancellationToken: Cancel).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, nobody.StatusCode);

        Assert.Equal(0, (await client.GetPreferencesAsync(new GetPreferencesRequest(), cancellationToken: Cancel)).Version);
    }

    [GeneratedRegex("""href="(?<url>[^"]*\?token=(?<token>[^"&]+))">Unsubscribe""")]
    private static partial Regex UnsubscribeLink();
}
