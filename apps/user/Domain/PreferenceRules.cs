using Ovasabi.ServiceDefaults.Text;
using System.Collections.Frozen;
using System.Text.RegularExpressions;

namespace Ovasabi.User.Domain;

/// <summary>
/// Preference categories and their keys. SetPreferences replaces a category's whole map, so a map is checked as a
/// whole: an empty map clears the category; otherwise every key must be known, every value valid and the required keys
/// present (notifications and privacy have none: a missing key means the platform default).
/// </summary>
public static partial class PreferenceRules
{
    public const string Notifications = "notifications";
    public const string QuietHours = "quiet_hours";
    public const string Locale = "locale";
    public const string Privacy = "privacy";

    private const string MustBeBoolean = "must be true or false";

    private sealed record Setting(string Key, bool Required, Func<string, string?> Check);

    private static readonly FrozenDictionary<string, Setting[]> Settings = new Dictionary<string, Setting[]>
    {
        [Notifications] =
        [
            new("email", false, Boolean),
            new("sms", false, Boolean),
            new("push", false, Boolean),
            new("in_app", false, Boolean),
        ],
        [QuietHours] =
        [
            new("start", true, TimeOfDay),
            new("end", true, TimeOfDay),
            new("time_zone", false, TimeZone),
        ],
        [Locale] =
        [
            new("language", true, Language),
            new("region", false, Region),
        ],
        [Privacy] =
        [
            new("profile_visibility", false, v => OneOf(v, "public", "users", "private")),
            new("show_email", false, Boolean),
        ],
    }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary>The categories, in the order the contract lists them.</summary>
    public static IReadOnlyList<string> Categories { get; } = [Notifications, QuietHours, Locale, Privacy];

    public static bool IsKnownCategory(string? category) => category is not null && Settings.ContainsKey(category);

    /// <summary>The keys a category accepts; empty for an unknown category.</summary>
    public static IReadOnlyList<string> KeysOf(string category) =>
        Settings.TryGetValue(category, out var settings) ? settings.Select(s => s.Key).ToArray() : [];

    /// <summary>
    /// Every problem with the category's new map: <c>category</c> for an unknown category, otherwise
    /// <c>values.&lt;key&gt;</c> per bad or unknown key (in key order), then per missing required key.
    /// </summary>
    public static IReadOnlyList<ValidationProblem> Validate(string category, IReadOnlyDictionary<string, string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (!IsKnownCategory(category))
        {
            return [new ValidationProblem("category", $"must be one of {string.Join(", ", Categories)}")];
        }
        var settings = Settings[category];
        var problems = new List<ValidationProblem>();
        foreach (var (key, value) in values.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var setting = Array.Find(settings, s => s.Key == key);
            var message = setting is null
                ? $"is not a {category} setting (known: {string.Join(", ", settings.Select(s => s.Key))})"
                : setting.Check(value);
            if (message is not null)
            {
                problems.Add(new ValidationProblem($"values.{key}", message));
            }
        }
        if (values.Count == 0)
        {
            return problems;
        }
        foreach (var missing in settings.Where(s => s.Required && !values.ContainsKey(s.Key)))
        {
            problems.Add(new ValidationProblem($"values.{missing.Key}", $"is required when {category} is set"));
        }
        if (category == QuietHours
            && values.TryGetValue("start", out var start) && values.TryGetValue("end", out var end)
            && TimeOfDay(start) is null && start == end)
        {
            problems.Add(new ValidationProblem("values.end", "must differ from start"));
        }
        return problems;
    }

    private static string? Boolean(string value) => value is "true" or "false" ? null : MustBeBoolean;

    private static string? OneOf(string value, params string[] allowed) =>
        allowed.Contains(value, StringComparer.Ordinal) ? null : $"must be one of {string.Join(", ", allowed)}";

    private static string? TimeOfDay(string value) =>
        HoursAndMinutes().IsMatch(value) ? null : "must be a 24-hour time as HH:mm, such as 22:30";

    private static string? TimeZone(string value) =>
        TimeZones.IsIanaId(value) ? null : "must be an IANA time zone such as Europe/Berlin";

    private static string? Language(string value) =>
        LanguageTags.IsWellFormed(value) ? null : "must be a BCP 47 language tag such as en, en-GB or zh-Hant-TW";

    private static string? Region(string value) =>
        RegionCode().IsMatch(value) ? null : "must be an ISO 3166-1 country code such as GB, or a UN M.49 area code such as 419";

    // [0-9], not \d, which would also match digits of other scripts.
    [GeneratedRegex(@"^(?:[01][0-9]|2[0-3]):[0-5][0-9]\z", RegexOptions.CultureInvariant)]
    private static partial Regex HoursAndMinutes();

    [GeneratedRegex(@"^(?:[A-Za-z]{2}|[0-9]{3})\z", RegexOptions.CultureInvariant)]
    private static partial Regex RegionCode();
}
