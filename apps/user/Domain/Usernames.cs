using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Ovasabi.User.Domain;

/// <summary>
/// Username rules. The stored username is <see cref="Normalize"/>d; uniqueness is on <see cref="Canonical"/>, so
/// "Alice" and "ａｌｉｃｅ" cannot both exist.
/// </summary>
public static class Usernames
{
    public const int MinLength = 3;
    public const int MaxLength = 32;

    /// <summary>Names that could pass for the platform, its staff or a placeholder value; compared via <see cref="Canonical"/>.</summary>
    public static IReadOnlyList<string> Reserved { get; } =
    [
        "admin",
        "administrator",
        "root",
        "support",
        "system",
        "service",
        "api",
        "ovasabi",
        "security",
        "help",
        "info",
        "null",
        "undefined",
        "me",
        "staff",
        "moderator",
        "owner",
        "everyone",
        "anonymous",
    ];

    private static readonly FrozenSet<string> ReservedSet = Reserved.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>Trim + Unicode NFKC: the form that is stored and shown.</summary>
    /// <exception cref="ArgumentException">The text has a lone surrogate; <see cref="Validate"/> reports that instead.</exception>
    public static string Normalize(string raw) => TextRules.NormalizeKc(raw);

    /// <summary>The uniqueness key: <see cref="Normalize"/>d, then lower-cased (invariant culture).</summary>
    /// <exception cref="ArgumentException">The text has a lone surrogate.</exception>
    public static string Canonical(string raw) => Normalize(raw).ToLowerInvariant();

    /// <summary>Whether the name is reserved, ignoring case and compatibility forms (so "ＡＤＭＩＮ" is).</summary>
    public static bool IsReserved(string raw) =>
        TextRules.TryNormalizeKc(raw, out var normalized) && ReservedSet.Contains(normalized.ToLowerInvariant());

    /// <summary>What is wrong with the username, or null when it is acceptable.</summary>
    public static string? Validate(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (!TextRules.TryNormalizeKc(raw, out var name))
        {
            return "must be valid Unicode text";
        }
        if (name.Length == 0)
        {
            return "is required";
        }
        // Before the length, so that "me" is refused for what it is.
        if (ReservedSet.Contains(name.ToLowerInvariant()))
        {
            return "is reserved";
        }
        var length = TextRules.CountCharacters(name);
        if (length is < MinLength or > MaxLength)
        {
            return $"must be {MinLength} to {MaxLength} characters long";
        }
        return CharacterProblem(name);
    }

    private static string? CharacterProblem(string name)
    {
        var previous = Kind.None;
        foreach (var rune in name.EnumerateRunes())
        {
            var kind = KindOf(rune);
            if (previous == Kind.None && kind is not (Kind.Letter or Kind.Digit))
            {
                return "must start with a letter or a digit";
            }
            switch (kind)
            {
                case Kind.Other:
                    return "may contain only letters, digits, '_', '.' and '-'";
                case Kind.Separator when previous == Kind.Separator:
                    return "must not have two of '_', '.' and '-' in a row";
                // A combining mark only completes the letter before it (NFKC leaves many, e.g. in Devanagari).
                case Kind.Mark when previous is not (Kind.Letter or Kind.Mark):
                    return "may contain only letters, digits, '_', '.' and '-'";
            }
            previous = kind;
        }
        return null;
    }

    private enum Kind { None, Letter, Digit, Mark, Separator, Other }

    private static Kind KindOf(Rune rune)
    {
        if (rune.Value is '_' or '.' or '-')
        {
            return Kind.Separator;
        }
        if (Rune.IsLetter(rune))
        {
            return Kind.Letter;
        }
        if (Rune.IsDigit(rune))
        {
            return Kind.Digit;
        }
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            ? Kind.Mark
            : Kind.Other;
    }
}
