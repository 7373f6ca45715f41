using NodaTime;
using Ovasabi.Notification.Domain;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.Notification.UnitTests;

public sealed class QuietHoursTests
{
    private static readonly QuietHours Night = new(new LocalTime(22, 0), new LocalTime(7, 0));
    private static readonly DateTimeZone Paris = DateTimeZoneProviders.Tzdb["Europe/Paris"];

    private static Instant At(string zone, int year, int month, int day, int hour, int minute) =>
        new LocalDateTime(year, month, day, hour, minute).InZoneStrictly(DateTimeZoneProviders.Tzdb[zone]).ToInstant();

    [Theory]
    [InlineData(21, 59, false)]
    [InlineData(22, 0, true)]
    [InlineData(23, 30, true)]
    [InlineData(0, 0, true)]
    [InlineData(6, 59, true)]
    [InlineData(7, 0, false)]
    [InlineData(12, 0, false)]
    public void Quiet_hours_across_midnight_hold_their_start_and_not_their_end(int hour, int minute, bool inside)
    {
        Assert.Equal(inside, Night.Contains(new LocalTime(hour, minute)));
    }

    [Theory]
    [InlineData(12, 59, false)]
    [InlineData(13, 0, true)]
    [InlineData(13, 59, true)]
    [InlineData(14, 0, false)]
    public void Quiet_hours_within_a_day_hold_their_start_and_not_their_end(int hour, int minute, bool inside)
    {
        Assert.Equal(inside, new QuietHours(new LocalTime(13, 0), new LocalTime(14, 0)).Contains(new LocalTime(hour, minute)));
    }

    [Fact]
    public void A_message_due_outside_quiet_hours_keeps_its_time()
    {
        var noon = At("Europe/Paris", 2026, 6, 1, 12, 0);
        Assert.Equal(noon, Night.NextAllowed(noon, Paris));
    }

    [Fact]
    public void A_message_due_in_the_evening_waits_for_the_next_morning_in_the_users_zone()
    {
        Assert.Equal(At("Europe/Paris", 2026, 6, 2, 7, 0), Night.NextAllowed(At("Europe/Paris", 2026, 6, 1, 23, 15), Paris));
    }

    [Fact]
    public void A_message_due_after_midnight_waits_for_the_same_mornings_end()
    {
        Assert.Equal(At("Europe/Paris", 2026, 6, 2, 7, 0), Night.NextAllowed(At("Europe/Paris", 2026, 6, 2, 3, 0), Paris));
    }

    [Fact]
    public void The_same_instant_is_quiet_in_one_zone_and_not_in_another()
    {
        var instant = At("UTC", 2026, 6, 1, 21, 30); // 23:30 in Paris, 17:30 in New York
        Assert.Equal(At("Europe/Paris", 2026, 6, 2, 7, 0), Night.NextAllowed(instant, Paris));
        Assert.Equal(instant, Night.NextAllowed(instant, DateTimeZoneProviders.Tzdb["America/New_York"]));
    }

    [Fact]
    public void An_end_the_spring_change_skips_is_the_first_moment_after_the_gap()
    {
        // Paris skips 02:00-03:00 on 2026-03-29: quiet hours ending at 02:30 end at 03:00 summer time.
        var quiet = new QuietHours(new LocalTime(1, 0), new LocalTime(2, 30));
        var due = At("Europe/Paris", 2026, 3, 29, 1, 30);
        Assert.Equal(At("Europe/Paris", 2026, 3, 29, 3, 0), quiet.NextAllowed(due, Paris));
    }

    [Fact]
    public void An_end_the_autumn_change_repeats_is_never_before_the_due_time()
    {
        // Paris passes 02:00-03:00 twice on 2026-10-25; quiet 02:00-02:30, due in the second 02:10: it waits for the second 02:30.
        var quiet = new QuietHours(new LocalTime(2, 0), new LocalTime(2, 30));
        var secondPass = Paris.MapLocal(new LocalDateTime(2026, 10, 25, 2, 10)).Last().ToInstant();
        var next = quiet.NextAllowed(secondPass, Paris);
        Assert.True(next > secondPass);
        Assert.Equal(Paris.MapLocal(new LocalDateTime(2026, 10, 25, 2, 30)).Last().ToInstant(), next);
    }
}

public sealed class PreferenceDecisionTests
{
    private static readonly Preferences Everything = Preferences.None;

    [Fact]
    public void A_user_who_set_nothing_gets_every_category_on_every_channel()
    {
        foreach (var category in Category.All)
        {
            foreach (var channel in Preferences.Channels)
            {
                Assert.Null(Everything.Suppression(category, channel));
            }
        }
    }

    [Fact]
    public void Global_mute_silences_every_category_but_the_critical_ones()
    {
        var muted = Everything with { GlobalMute = true };
        Assert.Equal("muted", muted.Suppression(Category.Transactions, Channels.Email));
        Assert.Equal("muted", muted.Suppression(Category.Announcements, Channels.InApp));
        Assert.Null(muted.Suppression(Category.Security, Channels.Email));
        Assert.Null(muted.Suppression(Category.BalanceAlerts, Channels.InApp));
    }

    [Fact]
    public void A_rule_turns_off_one_category_on_one_channel_and_says_who_turned_it_off()
    {
        var prefs = Everything.With(new PreferenceChange(null, false, null, null, null, [new("transactions", Channels.Email, false, PreferenceSources.User)]));
        Assert.Equal("preference", prefs.Suppression(Category.Transactions, Channels.Email));
        Assert.Null(prefs.Suppression(Category.Transactions, Channels.InApp));
        Assert.Null(prefs.Suppression(Category.Account, Channels.Email));

        var unsubscribed = Everything.With(new PreferenceChange(null, false, null, null, null, [new("account", Channels.Email, false, PreferenceSources.Unsubscribe)]));
        Assert.Equal("unsubscribed", unsubscribed.Suppression(Category.Account, Channels.Email));
    }

    [Fact]
    public void Turning_off_a_critical_category_is_refused_and_turning_it_on_is_harmless()
    {
        var error = Assert.Throws<FailedPreconditionException>(() =>
            Everything.With(new PreferenceChange(null, false, null, null, null, [new("security", Channels.Email, false, PreferenceSources.User)])));
        Assert.Equal("CATEGORY_CRITICAL", error.Reason);
        Assert.Null(Everything.With(new PreferenceChange(null, false, null, null, null, [new("security", Channels.Email, true, PreferenceSources.User)]))
            .Suppression(Category.Security, Channels.Email));
    }

    [Fact]
    public void A_change_keeps_what_it_does_not_name_and_a_later_rule_replaces_an_earlier_one()
    {
        var first = Everything.With(new PreferenceChange(true, true, new QuietHours(new LocalTime(22, 0), new LocalTime(7, 0)), "Europe/Paris", "fr",
            [new("transactions", Channels.Email, false, PreferenceSources.User), new("account", Channels.InApp, false, PreferenceSources.User)]));
        var second = first.With(new PreferenceChange(null, false, null, null, "", [new("transactions", Channels.Email, true, PreferenceSources.User)]));
        Assert.True(second.GlobalMute);
        Assert.NotNull(second.QuietHours);
        Assert.Equal("Europe/Paris", second.TimeZone);
        Assert.Null(second.Locale);
        Assert.Equal(2, second.Rules.Count);
        Assert.True(second.Rule("transactions", Channels.Email)!.Enabled);
        Assert.False(second.Rule("account", Channels.InApp)!.Enabled);

        var cleared = second.With(new PreferenceChange(false, true, null, null, null, null));
        Assert.Null(cleared.QuietHours);
        Assert.False(cleared.GlobalMute);
    }

    [Fact]
    public void Quiet_hours_hold_non_critical_email_only()
    {
        var quiet = Everything with { QuietHours = new QuietHours(new LocalTime(0, 0), new LocalTime(23, 59)), TimeZone = "UTC" };
        var due = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(new DateTimeOffset(2026, 6, 1, 23, 59, 0, TimeSpan.Zero), quiet.Due(Category.Transactions, Channels.Email, due, null));
        Assert.Equal(due, quiet.Due(Category.Transactions, Channels.InApp, due, null));
        Assert.Equal(due, quiet.Due(Category.Security, Channels.Email, due, null));
    }

    [Theory]
    [InlineData("Asia/Tokyo", "Europe/Paris", "Asia/Tokyo")]
    [InlineData(null, "Europe/Paris", "Europe/Paris")]
    [InlineData(null, null, "UTC")]
    [InlineData("Mars/Olympus_Mons", "Atlantis/Capital", "UTC")]
    public void The_zone_is_the_preferences_then_the_profiles_then_UTC(string? preferred, string? profile, string expected)
    {
        Assert.Equal(expected, (Everything with { TimeZone = preferred }).Zone(profile).Id);
    }
}

public sealed class PreferenceRulesTests
{
    [Theory]
    [InlineData("22:00", "07:00", true)]
    [InlineData("", "", true)]
    [InlineData("7:00", "08:00", false)]
    [InlineData("24:00", "08:00", false)]
    [InlineData("22:00", "", false)]
    [InlineData("10:00", "10:00", false)]
    [InlineData("10:00pm", "07:00", false)]
    public void Quiet_hours_are_two_different_HH_mm_times_or_none(string start, string end, bool valid)
    {
        var validator = new Validator();
        PreferenceRules.QuietHours(validator, "quiet_hours", start, end);
        Assert.Equal(valid, validator.IsValid);
    }

    [Theory]
    [InlineData("Europe/Paris", true)]
    [InlineData("", true)]
    [InlineData("europe/paris", false)]
    [InlineData("CET+1", false)]
    [InlineData("Mars/Olympus_Mons", false)]
    public void A_time_zone_is_an_IANA_name_or_empty(string zone, bool valid)
    {
        var validator = new Validator();
        PreferenceRules.TimeZone(validator, "time_zone", zone);
        Assert.Equal(valid, validator.IsValid);
    }

    [Theory]
    [InlineData("fr-CA", true)]
    [InlineData("", true)]
    [InlineData("f", false)]
    [InlineData("fr-", false)]
    [InlineData("fr_CA", false)]
    public void A_locale_is_a_BCP_47_tag_or_empty(string locale, bool valid)
    {
        var validator = new Validator();
        PreferenceRules.Locale(validator, "locale", locale);
        Assert.Equal(valid, validator.IsValid);
    }

    [Theory]
    [InlineData("+33612345678", true)]
    [InlineData("+14155550123", true)]
    [InlineData("", true)]
    [InlineData("0612345678", false)]
    [InlineData("+33 6 12 34 56 78", false)]
    [InlineData("+330612345678", false)]
    [InlineData("+1234", false)]
    [InlineData("+12345678901234567", false)]
    [InlineData("++33612345678", false)]
    public void An_sms_number_is_E164_and_valid_in_its_countrys_plan_or_empty(string number, bool valid)
    {
        var validator = new Validator();
        PreferenceRules.SmsNumber(validator, "sms_number", number);
        Assert.Equal(valid, validator.IsValid);
    }

    [Fact]
    public void Rules_must_name_a_known_category_a_channel_with_preferences_and_each_pair_once()
    {
        var validator = new Validator();
        var rules = PreferenceRules.Rules(validator, "rules", [("transactions", Channels.Email, false), ("gossip", Channels.Email, false), ("account", null, false), ("transactions", Channels.Email, true)]);
        Assert.Equal(["rules[1].category", "rules[2].channel", "rules[3]"], Assert.Throws<InvalidArgumentException>(validator.ThrowIfInvalid).Violations.Select(v => v.Field));
        Assert.Equal(2, rules.Count);
    }

    [Fact]
    public void More_than_a_hundred_rules_are_refused()
    {
        var validator = new Validator();
        PreferenceRules.Rules(validator, "rules", [.. Enumerable.Repeat(("transactions", (string?)Channels.Email, false), 101)]);
        Assert.Contains(Assert.Throws<InvalidArgumentException>(validator.ThrowIfInvalid).Violations, v => v.Field == "rules" && v.Description.Contains("at most 100", StringComparison.Ordinal));
    }
}

public sealed class UnsubscribeLinksTests
{
    private static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly UnsubscribeGrant Grant = new(Guid.NewGuid(), "transactions", Channels.Email, Guid.NewGuid(), Now.AddDays(60));

    [Fact]
    public void A_signed_link_reads_back_as_what_it_grants()
    {
        var token = new UnsubscribeLinks(Key).Token(Grant);
        Assert.StartsWith("u1.", token, StringComparison.Ordinal);
        Assert.Equal(Grant with { Expires = DateTimeOffset.FromUnixTimeSeconds(Grant.Expires.ToUnixTimeSeconds()) }, new UnsubscribeLinks(Key).Read(token, Now));
    }

    [Fact]
    public void A_link_signed_with_another_key_is_refused()
    {
        var token = new UnsubscribeLinks([.. Key.Reverse()]).Token(Grant);
        Assert.Null(new UnsubscribeLinks(Key).Read(token, Now));
    }

    [Fact]
    public void A_link_whose_payload_was_altered_is_refused()
    {
        var links = new UnsubscribeLinks(Key);
        var parts = links.Token(Grant).Split('.');
        var other = links.Token(Grant with { Category = "account" }).Split('.');
        Assert.Null(links.Read($"{parts[0]}.{other[1]}.{parts[2]}", Now));
    }

    [Fact]
    public void An_expired_link_is_refused()
    {
        var token = new UnsubscribeLinks(Key).Token(Grant);
        Assert.Null(new UnsubscribeLinks(Key).Read(token, Grant.Expires.AddSeconds(1)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("u1")]
    [InlineData("u1..")]
    [InlineData("u2.e30.AAAA")]
    [InlineData("u1.!!!.???")]
    [InlineData("u1.e30.e30.e30")]
    public void A_malformed_link_is_refused(string token)
    {
        Assert.Null(new UnsubscribeLinks(Key).Read(token, Now));
    }

    [Fact]
    public void A_signed_link_naming_an_unknown_category_is_refused()
    {
        var token = new UnsubscribeLinks(Key).Token(Grant with { Category = "gossip" });
        Assert.Null(new UnsubscribeLinks(Key).Read(token, Now));
    }
}
