using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Ovasabi.User.Domain;

/// <summary>Argon2id cost parameters, as in a PHC string: memory in KiB (m), passes (t) and lanes (p).</summary>
public readonly record struct Argon2Cost(int MemoryKiB, int Passes, int Parallelism)
{
    /// <summary>OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane.</summary>
    public static Argon2Cost OwaspMinimum { get; } = new(19456, 2, 1);

    public override string ToString() => $"m={MemoryKiB},t={Passes},p={Parallelism}";
}

/// <summary>
/// Argon2id password hashes (through NSec/libsodium) stored as PHC strings:
/// <c>$argon2id$v=19$m=19456,t=2,p=1$&lt;salt&gt;$&lt;hash&gt;</c>, salt and hash in base64 without padding.
/// </summary>
/// <remarks>
/// Passwords are hashed as the UTF-8 bytes of their NFKC form (NIST SP 800-63B), so a password typed on another
/// keyboard or input method still matches, and other Argon2 implementations produce the same hash. (NSec's
/// <c>string</c> overloads would hash UTF-16 instead.) Thread-safe; one instance can serve the whole app.
/// </remarks>
public sealed class PasswordHasher
{
    public const int SaltBytes = 16;
    public const int HashBytes = 32;

    // Bounds on what Verify accepts from a stored string: libsodium's own (p is always 1, salt always 16 bytes, at
    // least 8 KiB and 1 pass) and a ceiling, so a corrupt row cannot make one login allocate gigabytes or run for minutes.
    private const int MinMemoryKiB = 8;
    private const int MaxMemoryKiB = 1024 * 1024;
    private const int MaxPasses = 32;
    private const int MinHashBytes = 16;
    private const int MaxHashBytes = 64;
    private const int MaxPhcLength = 256;

    private const string Prefix = "$argon2id$v=19$";

    private readonly PasswordBasedKeyDerivationAlgorithm algorithm;

    /// <summary>A hasher at <see cref="Argon2Cost.OwaspMinimum"/>.</summary>
    public PasswordHasher()
        : this(Argon2Cost.OwaspMinimum)
    {
    }

    /// <summary>A hasher at the given cost; <see cref="NeedsRehash"/> reports hashes made at less.</summary>
    /// <exception cref="ArgumentOutOfRangeException">libsodium cannot use the cost, or it is beyond this class's ceiling.</exception>
    public PasswordHasher(Argon2Cost cost)
    {
        if (!IsSupported(cost))
        {
            throw new ArgumentOutOfRangeException(
                nameof(cost), cost, $"Argon2id needs p=1, {MinMemoryKiB}..{MaxMemoryKiB} KiB and 1..{MaxPasses} passes here.");
        }
        Cost = cost;
        algorithm = CreateAlgorithm(cost);
        // Random salt and hash at the current cost: verifying against it costs exactly what a real check costs, and
        // no password can match it.
        DummyPhc = Format(cost, RandomNumberGenerator.GetBytes(SaltBytes), RandomNumberGenerator.GetBytes(HashBytes));
    }

    public Argon2Cost Cost { get; }

    /// <summary>What <see cref="VerifyAgainstDummy"/> verifies against (visible to tests).</summary>
    internal string DummyPhc { get; }

    /// <summary>A PHC string for the password with a fresh random salt.</summary>
    /// <exception cref="ArgumentException">The password has a lone surrogate (not possible for text from UTF-8).</exception>
    public string Hash(string password)
    {
        var bytes = PasswordBytes(password)
            ?? throw new ArgumentException("The password is not well-formed UTF-16.", nameof(password));
        try
        {
            var salt = RandomNumberGenerator.GetBytes(SaltBytes);
            var hash = new byte[HashBytes];
            algorithm.DeriveBytes(bytes, salt, hash);
            return Format(Cost, salt, hash);
        }
        finally
        {
            // Best effort only: the password string itself stays in memory until collected.
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Whether the password matches the PHC string, using the cost written in it (so older hashes keep working after
    /// the cost is raised). False for a malformed or unsupported string rather than an exception.
    /// </summary>
    public bool Verify(string password, string phc)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(phc, out var stored))
        {
            return false;
        }
        var bytes = PasswordBytes(password);
        if (bytes is null)
        {
            return false;
        }
        try
        {
            var kdf = stored.Cost == Cost ? algorithm : CreateAlgorithm(stored.Cost);
            Span<byte> computed = stackalloc byte[stored.Hash.Length];
            kdf.DeriveBytes(bytes, stored.Salt, computed);
            return CryptographicOperations.FixedTimeEquals(computed, stored.Hash);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// Does the work of one <see cref="Verify"/> at the current cost and throws the answer away: call it when the
    /// login names no user, so that answer takes as long as a wrong password and does not reveal which users exist.
    /// </summary>
    public void VerifyAgainstDummy(string password) => _ = Verify(password, DummyPhc);

    /// <summary>
    /// Whether the stored hash should be replaced (after a successful <see cref="Verify"/>, while the password is at
    /// hand): its memory, passes or hash length are below the current ones, or it cannot be read at all.
    /// </summary>
    public bool NeedsRehash(string phc) =>
        !TryParse(phc, out var stored)
        || stored.Cost.MemoryKiB < Cost.MemoryKiB
        || stored.Cost.Passes < Cost.Passes
        || stored.Hash.Length < HashBytes;

    /// <summary>The parts of an Argon2id PHC string.</summary>
    internal readonly record struct PhcHash(Argon2Cost Cost, byte[] Salt, byte[] Hash);

    /// <summary>
    /// Reads <c>$argon2id$v=19$m=M,t=T,p=P$SALT$HASH</c> strictly: parameters in that order, decimal without leading
    /// zeros, standard base64 without padding, and only values libsodium accepts.
    /// </summary>
    internal static bool TryParse(string? phc, out PhcHash parsed)
    {
        parsed = default;
        if (phc is null || phc.Length > MaxPhcLength || !phc.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = phc[Prefix.Length..].Split('$');
        if (parts.Length != 3)
        {
            return false;
        }
        var parameters = parts[0].Split(',');
        if (parameters.Length != 3
            || !TryReadParameter(parameters[0], "m=", out var memory)
            || !TryReadParameter(parameters[1], "t=", out var passes)
            || !TryReadParameter(parameters[2], "p=", out var lanes))
        {
            return false;
        }
        var cost = new Argon2Cost(memory, passes, lanes);
        if (!IsSupported(cost)
            || !TryDecodeBase64(parts[1], out var salt) || salt.Length != SaltBytes
            || !TryDecodeBase64(parts[2], out var hash) || hash.Length is < MinHashBytes or > MaxHashBytes)
        {
            return false;
        }
        parsed = new PhcHash(cost, salt, hash);
        return true;
    }

    private static bool IsSupported(Argon2Cost cost) =>
        cost.Parallelism == 1
        && cost.MemoryKiB is >= MinMemoryKiB and <= MaxMemoryKiB
        && cost.Passes is >= 1 and <= MaxPasses;

    private static PasswordBasedKeyDerivationAlgorithm CreateAlgorithm(Argon2Cost cost) =>
        PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            DegreeOfParallelism = cost.Parallelism,
            MemorySize = cost.MemoryKiB,
            NumberOfPasses = cost.Passes,
        });

    private static string Format(Argon2Cost cost, byte[] salt, byte[] hash) =>
        $"{Prefix}{cost}${ToBase64(salt)}${ToBase64(hash)}";

    /// <summary>UTF-8 of the NFKC form; null for ill-formed UTF-16.</summary>
    private static byte[]? PasswordBytes(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return TextRules.TryNormalizeKcKeepingSpaces(password, out var normalized)
            ? Encoding.UTF8.GetBytes(normalized)
            : null;
    }

    private static bool TryReadParameter(string text, string name, out int value)
    {
        value = 0;
        var digits = text.AsSpan();
        if (!digits.StartsWith(name, StringComparison.Ordinal))
        {
            return false;
        }
        digits = digits[name.Length..];
        return digits.Length is > 0 and <= 10
            && (digits[0] != '0' || digits.Length == 1)
            && int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    private static string ToBase64(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=');

    private static bool TryDecodeBase64(string text, out byte[] bytes)
    {
        bytes = [];
        // Convert skips whitespace and wants padding; PHC has neither, so check the alphabet and pad here.
        if (text.Length == 0 || text.Length % 4 == 1 || !text.All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '/'))
        {
            return false;
        }
        var padded = text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '=');
        var buffer = new byte[padded.Length / 4 * 3];
        if (!Convert.TryFromBase64String(padded, buffer, out var written))
        {
            return false;
        }
        bytes = buffer[..written];
        return true;
    }
}
