using System.Collections.Frozen;

namespace Ovasabi.User.Domain;

/// <summary>
/// Rules for a new password, checked here because this service is where passwords are set. Deliberately no composition
/// rules (NIST SP 800-63B): length, "not your own name", and not a commonly used password.
/// </summary>
public static class PasswordPolicy
{
    public const int MinLength = 10;
    public const int MaxLength = 128;

    private const string CommonPasswordsResource = "Ovasabi.User.Domain.common-passwords.txt";

    /// <summary>
    /// The shipped list (<c>common-passwords.txt</c>), in the form a password is compared in: NFKC, lower case. Only
    /// entries of at least <see cref="MinLength"/> characters are worth shipping; shorter ones fail the length rule anyway.
    /// </summary>
    internal static FrozenSet<string> CommonPasswords { get; } = LoadCommonPasswords();

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
        if (CommonPasswords.Contains(lowered))
        {
            return "is too common: choose a less guessable password";
        }
        return null;
    }

    private static FrozenSet<string> LoadCommonPasswords()
    {
        using var stream = typeof(PasswordPolicy).Assembly.GetManifestResourceStream(CommonPasswordsResource)
            ?? throw new InvalidOperationException($"The embedded resource {CommonPasswordsResource} is missing from the build.");
        using var reader = new StreamReader(stream);
        var passwords = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            // '#' starts a comment (the source and licence); no listed password begins with one.
            if (line.Length > 0 && !line.StartsWith('#') && TextRules.TryNormalizeKcKeepingSpaces(line, out var normalized))
            {
                passwords.Add(normalized.ToLowerInvariant());
            }
        }
        return passwords.ToFrozenSet(StringComparer.Ordinal);
    }

    private static bool Matches(string loweredPassword, string? other) =>
        other is not null
        && TextRules.TryNormalizeKc(other, out var normalized)
        && normalized.Length > 0
        && string.Equals(loweredPassword, normalized.ToLowerInvariant(), StringComparison.Ordinal);
}
