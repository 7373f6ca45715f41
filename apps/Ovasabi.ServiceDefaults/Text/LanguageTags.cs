using System.Text.RegularExpressions;

namespace Ovasabi.ServiceDefaults.Text;

/// <summary>The shape of a BCP 47 language tag (RFC 5646 "langtag"), e.g. <c>en</c>, <c>en-GB</c>, <c>zh-Hant-TW</c>.</summary>
/// <remarks>
/// Only the syntax is checked, not the IANA subtag registry, so "qq-ZZ" passes. Grandfathered tags ("i-klingon") and
/// bare private-use tags ("x-foo") are refused: they are no use as a locale.
/// </remarks>
public static partial class LanguageTags
{
    /// <summary>RFC 5646 §4.4.1 asks implementations to handle at least 35 characters; more is no real locale.</summary>
    public const int MaxLength = 35;

    public static bool IsWellFormed(string value) => value.Length <= MaxLength && Shape().IsMatch(value);

    /// <summary>
    /// A well-formed tag in the case RFC 5646 §2.1.1 recommends, so equal tags compare equal: language and the rest
    /// lower-case, a four-letter script title-case, a two-letter region upper-case (<c>zh-hant-tw</c> → <c>zh-Hant-TW</c>).
    /// </summary>
    public static string Canonical(string tag)
    {
        var parts = tag.ToLowerInvariant().Split('-');
        for (var i = 1; i < parts.Length && parts[i - 1].Length > 1; i++)
        {
            parts[i] = parts[i].Length switch
            {
                4 when char.IsAsciiLetter(parts[i][0]) => char.ToUpperInvariant(parts[i][0]) + parts[i][1..],
                2 => parts[i].ToUpperInvariant(),
                _ => parts[i],
            };
        }
        return string.Join('-', parts);
    }

    // Explicit A-Za-z rather than IgnoreCase (which lets the Kelvin sign match 'k'), and \z rather than $ (which allows
    // a trailing newline).
    [GeneratedRegex("""
        ^
        (?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3} | [A-Za-z]{4,8})   # language, with up to three extlangs
        (?:-[A-Za-z]{4})?                                       # script
        (?:-(?:[A-Za-z]{2}|[0-9]{3}))?                          # region
        (?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*          # variants
        (?:-[0-9A-WYZa-wyz](?:-[A-Za-z0-9]{2,8})+)*             # extensions
        (?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?                        # private use
        \z
        """, RegexOptions.IgnorePatternWhitespace | RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
