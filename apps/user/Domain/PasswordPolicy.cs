namespace Ovasabi.User.Domain;

/// <summary>
/// Rules for a new password. Deliberately no composition rules (NIST SP 800-63B): length and "not your own name".
/// Checking against lists of common or breached passwords is the auth service's job.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 10;
    public const int MaxLength = 128;

    /// <summary>What is wrong with the password, or null when it is acceptable.</summary>
    /// <param name="password">As typed; not trimmed, since spaces are part of a passphrase.</param>
    /// <param name="username">The account's username, when known.</param>
    /// <param name="email">The account's email address, when known.</param>
    public static string? Validate(string password, string? username = null, string? email = null)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TextRules.TryNormalizeKcKeepingSpaces(password, out var normalized))
        {
            return "must be valid Unicode text";
        }
        var length = TextRules.CountCharacters(normalized);
        if (length is < MinLength or > MaxLength)
        {
            return $"must be {MinLength} to {MaxLength} characters long";
        }
        var lowered = normalized.ToLowerInvariant();
        if (Matches(lowered, username))
        {
            return "must not be the same as the username";
        }
        if (email is not null && TextRules.TryNormalizeKc(email, out var address))
        {
            var at = address.LastIndexOf('@');
            if (at > 0 && Matches(lowered, address[..at]))
            {
                return "must not be the same as the part of the email address before the '@'";
            }
            if (Matches(lowered, address))
            {
                return "must not be the same as the email address";
            }
        }
        return null;
    }

    private static bool Matches(string loweredPassword, string? other) =>
        other is not null
        && TextRules.TryNormalizeKc(other, out var normalized)
        && normalized.Length > 0
        && string.Equals(loweredPassword, normalized.ToLowerInvariant(), StringComparison.Ordinal);
}
