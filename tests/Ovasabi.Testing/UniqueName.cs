using System.Security.Cryptography;
using System.Text;

namespace Ovasabi.Testing;

/// <summary>
/// Names for per-test resources (databases, buckets): the prefix lower-cased and reduced to [a-z0-9],
/// then a separator and a random suffix, so parallel test classes never collide.
/// </summary>
public static class UniqueName
{
    // S3 bucket names and PostgreSQL identifiers (NAMEDATALEN - 1) both stop at 63 characters.
    public const int MaxLength = 63;
    public const int SuffixLength = 8;

    private const string SuffixAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <param name="prefix">A readable hint, e.g. the test class name.</param>
    /// <param name="separator">'-' gives DNS-valid names (S3 buckets), '_' gives plain SQL identifiers.</param>
    public static string Create(string prefix, char separator = '-')
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (separator is not ('-' or '_'))
        {
            throw new ArgumentOutOfRangeException(nameof(separator), separator, "use '-' or '_'");
        }

        var stem = new StringBuilder(prefix.Length);
        foreach (var c in prefix.ToLowerInvariant())
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                stem.Append(c);
            }
            else if (stem.Length > 0 && stem[^1] != separator)
            {
                stem.Append(separator);
            }
        }

        var maxStemLength = MaxLength - SuffixLength - 1;
        var trimmed = stem.ToString(0, Math.Min(stem.Length, maxStemLength)).TrimEnd(separator);
        var suffix = RandomNumberGenerator.GetString(SuffixAlphabet, SuffixLength);
        return trimmed.Length == 0 ? suffix : $"{trimmed}{separator}{suffix}";
    }
}
