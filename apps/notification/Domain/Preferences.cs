using NodaTime;
using NodaTime.Text;
using NodaTime.TimeZones;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Text;

namespace Ovasabi.Notification.Domain;

/// <summary>
/// A daily span of local time when non-critical email waits, e.g. 22:00 to 07:00 (it spans midnight when the start is
/// later than the end). The start is inside, the end is not.
/// </summary>
public sealed record QuietHours(LocalTime Start, LocalTime End)
{
    private static readonly LocalTimePattern Pattern = LocalTimePattern.CreateWithInvariantCulture("HH:mm");

    public static LocalTime? ParseTime(string text) => Pattern.Parse(text) is { Success: true } parsed ? parsed.Value : null;

    public static string Format(LocalTime time) => Pattern.Format(time);

    public bool Contains(LocalTime time) => Start < End ? time >= Start && time < End : time >= Start || time < End;

    /// <summary>
    /// The first moment at or after <paramref name="due"/> outside the quiet hours in <paramref name="zone"/>. An end
    /// that a DST change skips is the first moment after the gap; an end the clocks pass twice is the first one after
    /// <paramref name="due"/>.
    /// </summary>
    public Instant NextAllowed(Instant due, DateTimeZone zone)
    {
        var local = due.InZone(zone).LocalDateTime;
        if (!Contains(local.TimeOfDay))
        {
            return due;
        }
        var endDate = Start > End && local.TimeOfDay >= Start ? local.Date.PlusDays(1) : local.Date;
        var end = zone.MapLocal(endDate + End);
        return end.Count switch
        {
            0 => zone.ResolveLocal(endDate + End, Resolvers.CreateMappingResolver(Resolvers.ReturnEarlier, Resolvers.ReturnStartOfIntervalAfter)).ToInstant(),
            1 => end.Single().ToInstant(),
            _ => end.First().ToInstant() > due ? end.First().ToInstant() : end.Last().ToInstant(),
        };
    }
}

/// <summary>Who last set a category × channel rule.</summary>
public static class PreferenceSources
{
    public const string User = "user", Unsubscribe = "unsubscribe";
}

/// <summary>Whether <see cref="Category"/> may reach its user on <see cref="Channel"/>.</summary>
public sealed record PreferenceRule(string Category, string Channel, bool Enabled, string Source);

/// <summary>
/// What a user wants to hear, and how: category × channel rules (what no rule names is on), a global mute, quiet hours,
/// and the locale and time zone that override the profile's. Critical categories ignore all of it but the locale and zone.
/// </summary>
public sealed record Preferences(bool GlobalMute, QuietHours? QuietHours, string? TimeZone, string? Locale, IReadOnlyList<PreferenceRule> Rules, long Version)
{
    /// <summary>The channels a user has preferences for (those the service delivers on).</summary>
    public static readonly IReadOnlyList<string> Channels = [Domain.Channels.Email, Domain.Channels.Sms, Domain.Channels.Webhook, Domain.Channels.InApp];

    /// <summary>A user who never set anything: everything on, no quiet hours, the profile's locale and zone.</summary>
    public static readonly Preferences None = new(false, null, null, null, [], 0);

    /// <summary>Where SMS goes (E.164); none: SMS is suppressed, reason <c>no_address</c>.</summary>
    public string? SmsNumber { get; init; }

    /// <summary>Why a message of <paramref name="category"/> on <paramref name="channel"/> is not sent (a status reason), or null when it may be.</summary>
    public string? Suppression(Category category, string channel)
    {
        if (category.Critical)
        {
            return null;
        }
        if (GlobalMute)
        {
            return "muted";
        }
        return Rule(category.Name, channel) is { Enabled: false } rule
            ? rule.Source == PreferenceSources.Unsubscribe ? "unsubscribed" : "preference"
            : null;
    }

    public PreferenceRule? Rule(string category, string channel) => Rules.FirstOrDefault(r => r.Category == category && r.Channel == channel);

    /// <summary>The zone messages are timed in: this one, else the profile's, else UTC (also for a zone no longer known).</summary>
    public DateTimeZone Zone(string? profileZone) =>
        DateTimeZoneProviders.Tzdb.GetZoneOrNull(TimeZone ?? "") ?? DateTimeZoneProviders.Tzdb.GetZoneOrNull(profileZone ?? "") ?? DateTimeZone.Utc;

    /// <summary>
    /// When a message due at <paramref name="due"/> may go: email and SMS that are not critical wait out the quiet hours;
    /// in-app items make no sound and webhooks reach machines, so neither is held.
    /// </summary>
    public DateTimeOffset Due(Category category, string channel, DateTimeOffset due, string? profileZone) =>
        category.Critical || channel is not (Domain.Channels.Email or Domain.Channels.Sms) || QuietHours is not { } quiet
            ? due
            : quiet.NextAllowed(Instant.FromDateTimeOffset(due), Zone(profileZone)).ToDateTimeOffset();

    /// <summary>These preferences with <paramref name="change"/> applied (rules it lists are set with their source, the others kept).</summary>
    /// <exception cref="FailedPreconditionException">the change turns off a critical category</exception>
    public Preferences With(PreferenceChange change)
    {
        foreach (var rule in change.Rules ?? [])
        {
            if (!rule.Enabled && Category.Named(rule.Category) is { Critical: true })
            {
                throw new FailedPreconditionException($"{rule.Category} is critical and cannot be turned off", "CATEGORY_CRITICAL");
            }
        }
        var rules = Rules.Where(r => change.Rules is null || !change.Rules.Any(c => c.Category == r.Category && c.Channel == r.Channel))
            .Concat(change.Rules ?? [])
            .OrderBy(r => r.Category, StringComparer.Ordinal).ThenBy(r => r.Channel, StringComparer.Ordinal)
            .ToList();
        return new Preferences(
            change.GlobalMute ?? GlobalMute,
            change.SetsQuietHours ? change.QuietHours : QuietHours,
            change.TimeZone is null ? TimeZone : change.TimeZone.Length == 0 ? null : change.TimeZone,
            change.Locale is null ? Locale : change.Locale.Length == 0 ? null : change.Locale,
            rules,
            Version)
        {
            SmsNumber = change.SmsNumber is null ? SmsNumber : change.SmsNumber.Length == 0 ? null : change.SmsNumber,
        };
    }
}

/// <summary>
/// A change to a user's preferences: null fields stay as they are; an empty time zone or locale clears it (back to the
/// profile's); <see cref="SetsQuietHours"/> with null quiet hours removes them.
/// </summary>
public sealed record PreferenceChange(bool? GlobalMute, bool SetsQuietHours, QuietHours? QuietHours, string? TimeZone, string? Locale, IReadOnlyList<PreferenceRule>? Rules,
    string? SmsNumber = null);

/// <summary>The checks on what a user may store as preferences.</summary>
public static class PreferenceRules
{
    public static readonly IReadOnlyList<string> UpdatablePaths = ["global_mute", "quiet_hours", "time_zone", "locale", "rules", "sms_number"];

    public const int MaxRules = 100;

    /// <summary>Quiet hours from two "HH:mm" times; both empty means none.</summary>
    public static QuietHours? QuietHours(Validator validator, string field, string start, string end)
    {
        if (start.Length == 0 && end.Length == 0)
        {
            return null;
        }
        var from = Domain.QuietHours.ParseTime(start);
        var to = Domain.QuietHours.ParseTime(end);
        validator.Check($"{field}.start", from is not null, "must be a time of day as HH:mm, e.g. 22:00");
        validator.Check($"{field}.end", to is not null, "must be a time of day as HH:mm, e.g. 07:00");
        if (from is null || to is null)
        {
            return null;
        }
        validator.Check(field, from != to, "must start and end at different times");
        return new QuietHours(from.Value, to.Value);
    }

    /// <summary>An IANA zone the service knows, or empty (the profile's).</summary>
    public static string TimeZone(Validator validator, string field, string zone)
    {
        validator.Check(field, zone.Length == 0 || DateTimeZoneProviders.Tzdb.GetZoneOrNull(zone) is not null, "must be an IANA time zone such as Europe/Paris");
        return zone;
    }

    /// <summary>A well-formed BCP 47 tag in its usual case (<c>fr-ca</c> → <c>fr-CA</c>), or empty (the profile's).</summary>
    public static string Locale(Validator validator, string field, string locale)
    {
        validator.Check(field, locale.Length == 0 || LanguageTags.IsWellFormed(locale), "must be a BCP 47 language tag such as en, fr or fr-CA");
        return LanguageTags.IsWellFormed(locale) ? LanguageTags.Canonical(locale) : locale;
    }

    /// <summary>A phone number in E.164 form (<c>+</c>, country code, number; no spaces) that is valid in its country's plan, or empty (none).</summary>
    public static string SmsNumber(Validator validator, string field, string number)
    {
        var phones = PhoneNumbers.PhoneNumberUtil.GetInstance();
        var valid = number.Length == 0;
        if (!valid && number.Length <= 16 && number.StartsWith('+'))
        {
            try
            {
                var parsed = phones.Parse(number, null);
                valid = phones.IsValidNumber(parsed) && phones.Format(parsed, PhoneNumbers.PhoneNumberFormat.E164) == number;
            }
            catch (PhoneNumbers.NumberParseException)
            {
                valid = false;
            }
        }
        validator.Check(field, valid, "must be a phone number in E.164 form, e.g. +33612345678");
        return number;
    }

    /// <summary>Rules naming a known category and a channel with preferences, each once.</summary>
    public static List<PreferenceRule> Rules(Validator validator, string field, IReadOnlyList<(string Category, string? Channel, bool Enabled)> rules)
    {
        validator.Check(field, rules.Count <= MaxRules, $"must hold at most {MaxRules} rules");
        var seen = new HashSet<(string, string)>();
        var valid = new List<PreferenceRule>();
        for (var i = 0; i < Math.Min(rules.Count, MaxRules); i++)
        {
            var (category, channel, enabled) = rules[i];
            var known = Category.Named(category) is not null;
            validator.Check($"{field}[{i}].category", known, $"must be one of {string.Join(", ", Category.All.Select(c => c.Name))}");
            validator.Check($"{field}[{i}].channel", channel is not null, $"must be one of {string.Join(", ", Preferences.Channels)}");
            if (known && channel is not null)
            {
                validator.Check($"{field}[{i}]", seen.Add((category, channel)), "names a category and channel twice");
                valid.Add(new PreferenceRule(category, channel, enabled, PreferenceSources.User));
            }
        }
        return valid;
    }
}
