using System.Globalization;
using System.Net.Mail;
using System.Text;

namespace Ovasabi.User.Domain;

/// <summary>Email address rules. Stored <see cref="Normalize"/>d; uniqueness is on <see cref="Canonical"/>.</summary>
public static class Emails
{
    /// <summary>RFC 5321's limit on a forward path, less the angle brackets.</summary>
    public const int MaxLength = 254;

    public const int MaxLocalPartLength = 64;

    /// <summary>A DNS label's limit (RFC 1035).</summary>
    private const int MaxLabelLength = 63;

    /// <summary>Trim + Unicode NFKC.</summary>
    /// <exception cref="ArgumentException">The text has a lone surrogate; <see cref="Validate"/> reports that instead.</exception>
    public static string Normalize(string raw) => TextRules.NormalizeKc(raw);

    /// <summary>
    /// The uniqueness key: <see cref="Normalize"/>d, then lower-cased. Lower-casing the local part is strictly beyond
    /// RFC 5321, but no mailbox provider users meet tells "Bob" from "bob", and treating them apart invites duplicates.
    /// </summary>
    public static string Canonical(string raw) => Normalize(raw).ToLowerInvariant();

    /// <summary>The part before the '@' of the normalized address (the whole address when it has no '@').</summary>
    public static string LocalPart(string raw)
    {
        var email = Normalize(raw);
        var at = email.LastIndexOf('@');
        return at < 0 ? email : email[..at];
    }

    /// <summary>What is wrong with the address, or null when it is acceptable.</summary>
    public static string? Validate(string raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (!TextRules.TryNormalizeKc(raw, out var email))
        {
            return "must be valid Unicode text";
        }
        if (email.Length == 0)
        {
            return "is required";
        }
        if (email.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters long";
        }
        if (email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return "must not contain spaces or control characters";
        }
        var at = email.IndexOf('@');
        if (at < 0 || email.IndexOf('@', at + 1) >= 0)
        {
            return "must contain exactly one '@'";
        }
        if (at == 0)
        {
            return "must have a name before the '@'";
        }
        if (at > MaxLocalPartLength)
        {
            return $"must have at most {MaxLocalPartLength} characters before the '@'";
        }
        if (!IsDomainName(email[(at + 1)..]))
        {
            return "must have a domain name with a dot after the '@', such as example.com";
        }
        // The last word goes to the framework's parser; comparing its result refuses the forms it accepts but rewrites
        // (comments, display names), which would not be the address the user typed.
        return MailAddress.TryCreate(email, out var parsed) && parsed.Address == email
            ? null
            : "is not a valid email address";
    }

    /// <summary>
    /// At least two dot-separated labels of letters (any script, for internationalised domains), digits, combining
    /// marks and inner hyphens. Refuses IP literals, "localhost", empty labels and a trailing dot.
    /// </summary>
    private static bool IsDomainName(string domain)
    {
        var labels = domain.Split('.');
        return labels.Length >= 2 && labels.All(IsLabel);
    }

    private static bool IsLabel(string label)
    {
        if (label.Length == 0 || label[0] == '-' || label[^1] == '-' || TextRules.CountCharacters(label) > MaxLabelLength)
        {
            return false;
        }
        foreach (var rune in label.EnumerateRunes())
        {
            var ok = rune.Value == '-' || Rune.IsLetterOrDigit(rune) || Rune.GetUnicodeCategory(rune) is
                UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }
}
