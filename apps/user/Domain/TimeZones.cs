using System.Text.RegularExpressions;

namespace Ovasabi.User.Domain;

/// <summary>IANA time zone ids, e.g. <c>Europe/Berlin</c>, checked against the system's tz database.</summary>
internal static partial class TimeZones
{
    /// <summary>The longest id in the tz database is about 30 characters.</summary>
    public const int MaxLength = 64;

    /// <summary>
    /// True when <see cref="TimeZoneInfo.FindSystemTimeZoneById"/> resolves the id as an IANA zone spelt exactly so.
    /// On Linux .NET also resolves "europe/berlin" and Windows ids ("W. Europe Standard Time"); both are refused so
    /// that one zone has one stored spelling.
    /// </summary>
    public static bool IsIanaId(string value) =>
        value.Length <= MaxLength
        && Shape().IsMatch(value)
        && TimeZoneInfo.TryFindSystemTimeZoneById(value, out var zone)
        && zone.HasIanaId
        && string.Equals(zone.Id, value, StringComparison.Ordinal);

    // Names as the tz database writes them ("America/Argentina/Buenos_Aires", "Etc/GMT+5", "UTC"). The shape check also
    // keeps path tricks ("../", absolute paths) away from the zoneinfo directory lookup.
    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
