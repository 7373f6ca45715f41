using Ovasabi.ServiceDefaults.Text;
using System.Globalization;
using System.Text;

namespace Ovasabi.User.Domain;

/// <summary>
/// Rules for a <see cref="ProfileInput"/>. Every field is optional: an empty string (proto3's "not set") is always valid.
/// </summary>
public static class ProfileRules
{
    public const int MaxDisplayNameLength = 64;
    public const int MaxAvatarUrlLength = 2048;
    public const int MaxBioLength = 500;
    public const int MaxCustomFieldsJsonBytes = 16 * 1024;
    public const int MaxCustomFieldsDepth = 5;
    public const int MaxCustomFieldsKeys = 50;

    public const string DisplayName = "display_name";
    public const string AvatarUrl = "avatar_url";
    public const string Bio = "bio";
    public const string Locale = "locale";
    public const string TimeZone = "time_zone";
    public const string CustomFields = "custom_fields";

    /// <summary>The profile's fields by their proto names, as they appear in field paths and update masks.</summary>
    public static IReadOnlyList<string> Fields { get; } = [DisplayName, AvatarUrl, Bio, Locale, TimeZone, CustomFields];

    /// <summary>Every problem in the profile, each named <c>{path}.{field}</c> (e.g. <c>profile.avatar_url</c>).</summary>
    /// <param name="profile">The profile; null (not sent) has no problems.</param>
    /// <param name="path">Where the profile sits in the request: "profile" in CreateUser, "user.profile" in UpdateUser.</param>
    public static IReadOnlyList<ValidationProblem> Validate(ProfileInput? profile, string path = "profile")
    {
        if (profile is null)
        {
            return [];
        }
        var problems = new List<ValidationProblem>();
        foreach (var field in Fields)
        {
            if (ValidateField(profile, field) is { } message)
            {
                problems.Add(new ValidationProblem($"{path}.{field}", message));
            }
        }
        return problems;
    }

    /// <summary>The problem with one field of the profile, or null; for updates whose mask names single fields.</summary>
    /// <param name="field">One of <see cref="Fields"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">The field is not one of <see cref="Fields"/>.</exception>
    public static string? ValidateField(ProfileInput profile, string field)
    {
        ArgumentNullException.ThrowIfNull(profile);
        return field switch
        {
            DisplayName => ValidateDisplayName(profile.DisplayName),
            AvatarUrl => ValidateAvatarUrl(profile.AvatarUrl),
            Bio => ValidateBio(profile.Bio),
            Locale => ValidateLocale(profile.Locale),
            TimeZone => ValidateTimeZone(profile.TimeZone),
            CustomFields => ValidateCustomFields(profile.CustomFields),
            _ => throw new ArgumentOutOfRangeException(nameof(field), field, "Not a field of Profile."),
        };
    }

    public static string? ValidateDisplayName(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (TextRules.CountCharacters(value) > MaxDisplayNameLength)
        {
            return $"must be at most {MaxDisplayNameLength} characters long";
        }
        return value.EnumerateRunes().Any(r => Rune.IsControl(r) || TextRules.IsBidiControl(r))
            ? "must not contain control characters"
            : null;
    }

    public static string? ValidateAvatarUrl(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length == 0)
        {
            return null;
        }
        if (value.Length > MaxAvatarUrlLength)
        {
            return $"must be at most {MaxAvatarUrlLength} characters long";
        }
        // Uri.TryCreate would quietly trim or tolerate these, so the stored text would not be the URL that was checked.
        if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return "must not contain spaces or control characters";
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri)
            && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            && uri.Host.Length > 0
            ? null
            : "must be an absolute http or https URL";
    }

    public static string? ValidateBio(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (TextRules.CountCharacters(value) > MaxBioLength)
        {
            return $"must be at most {MaxBioLength} characters long";
        }
        // Line breaks and tabs are fine in a bio; other controls (NUL above all, which PostgreSQL text cannot hold) are not.
        return value.EnumerateRunes().Any(r => (Rune.IsControl(r) && r.Value is not ('\n' or '\r' or '\t')) || TextRules.IsBidiControl(r))
            ? "must not contain control characters other than line breaks and tabs"
            : null;
    }

    public static string? ValidateLocale(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length == 0 || LanguageTags.IsWellFormed(value)
            ? null
            : "must be a BCP 47 language tag such as en, en-GB or zh-Hant-TW";
    }

    public static string? ValidateTimeZone(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.Length == 0 || TimeZones.IsIanaId(value)
            ? null
            : "must be an IANA time zone such as Europe/Berlin";
    }

    /// <summary>
    /// At most <see cref="MaxCustomFieldsKeys"/> top-level keys, nested at most <see cref="MaxCustomFieldsDepth"/> levels
    /// (the object itself is level 1; each object or list inside adds one), finite numbers and set values only, and at most
    /// 16 KiB as UTF-8 JSON.
    /// </summary>
    public static string? ValidateCustomFields(JsonShape? shape) => shape switch
    {
        null => null,
        { TopLevelKeys: > MaxCustomFieldsKeys } => $"must have at most {MaxCustomFieldsKeys} top-level keys",
        { UnsetValue: true } => "must not contain values without a kind (use null_value for null)",
        { NonFiniteNumber: true } => "must contain only finite numbers",
        { Depth: > MaxCustomFieldsDepth } => $"must be nested at most {MaxCustomFieldsDepth} levels deep",
        { JsonBytes: > MaxCustomFieldsJsonBytes } => string.Create(CultureInfo.InvariantCulture, $"must be at most 16 KiB as JSON (is {shape.JsonBytes} bytes)"),
        _ => null,
    };
}

/// <summary>A profile as a caller sent it; an empty string is "not set". <paramref name="CustomFieldsJson"/> is the custom fields as JSON.</summary>
public sealed record ProfileInput(string DisplayName, string AvatarUrl, string Bio, string Locale, string TimeZone, JsonShape? CustomFields, string CustomFieldsJson = "{}");

/// <summary>An account as a caller asks for it.</summary>
public sealed record NewAccount(string Username, string Email, string Password, ProfileInput? Profile);

/// <summary>What an update changes: the fields named (<c>username</c>, <c>email</c>, profile fields by name) take their values from here.</summary>
public sealed record AccountChanges(string Username, string Email, ProfileInput Profile, IReadOnlyList<string> ProfileFields, bool ChangesUsername, bool ChangesEmail);

/// <summary>
/// What the rules need to know of a JSON object a caller sent: its top-level keys, how deep it nests (the object is
/// level 1), whether it holds a value of no kind or a number JSON cannot carry, and its size as UTF-8 JSON (0 when it
/// cannot be written).
/// </summary>
public sealed record JsonShape(int TopLevelKeys, int Depth, bool UnsetValue, bool NonFiniteNumber, int JsonBytes);
