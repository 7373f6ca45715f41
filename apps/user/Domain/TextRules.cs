using System.Text;

namespace Ovasabi.User.Domain;

/// <summary>Text helpers the rules share.</summary>
internal static class TextRules
{
    /// <summary>Trims and applies Unicode NFKC; false for ill-formed UTF-16 (a lone surrogate), which NFKC rejects.</summary>
    /// <remarks>Trimming after NFKC also removes whitespace that NFKC produced (e.g. from U+3000 or U+00A0).</remarks>
    public static bool TryNormalizeKc(string value, out string normalized)
    {
        if (!TryNormalizeKcKeepingSpaces(value, out normalized))
        {
            return false;
        }
        normalized = normalized.Trim();
        return true;
    }

    /// <summary>Trim + NFKC; throws <see cref="ArgumentException"/> for ill-formed UTF-16 (validate first).</summary>
    public static string NormalizeKc(string value) =>
        TryNormalizeKc(value, out var normalized)
            ? normalized
            : throw new ArgumentException("The text is not well-formed UTF-16 (it has a lone surrogate).", nameof(value));

    /// <summary>NFKC without trimming, for passwords, where spaces at either end are part of the secret.</summary>
    public static bool TryNormalizeKcKeepingSpaces(string value, out string normalized)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (!IsWellFormed(value))
        {
            normalized = "";
            return false;
        }
        normalized = value.Normalize(NormalizationForm.FormKC);
        return true;
    }

    /// <summary>
    /// Length in Unicode scalar values (code points): closer to what a user calls a character than UTF-16 units, and
    /// what PostgreSQL's <c>varchar(n)</c> counts.
    /// </summary>
    public static int CountCharacters(string value)
    {
        var count = 0;
        foreach (var _ in value.EnumerateRunes())
        {
            count++;
        }
        return count;
    }

    /// <summary>False when a surrogate is not part of a pair (only possible for text that did not come from UTF-8).</summary>
    public static bool IsWellFormed(string value)
    {
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069): invisible, and able to
    /// make a name read differently from what it is, so text shown to other users may not contain them.
    /// </summary>
    public static bool IsBidiControl(Rune rune) =>
        rune.Value is (>= 0x202A and <= 0x202E) or (>= 0x2066 and <= 0x2069);
}
