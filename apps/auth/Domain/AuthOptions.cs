using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.Auth.Domain;

/// <summary>The auth service's policies (configuration section <c>Auth</c>; durations as <c>hh:mm:ss</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Short, since a stolen access token works until it expires or its session's revocation is checked.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A refresh token unused for this long expires (idle timeout); each use issues a new one.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>The absolute end of a session, however often it is refreshed.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(30);

    public SigningKeyOptions SigningKeys { get; set; } = new();

    public RateLimitOptions RateLimits { get; set; } = new();

    public static IEnumerable<string> Problems(AuthOptions o) =>
        Settings.Check(o.AccessTokenLifetime > TimeSpan.Zero, $"{Section}:AccessTokenLifetime", "must be positive")
            .Concat(Settings.Check(o.RefreshTokenLifetime >= o.AccessTokenLifetime, $"{Section}:RefreshTokenLifetime", "must be at least AccessTokenLifetime"))
            .Concat(Settings.Check(o.SessionLifetime >= o.RefreshTokenLifetime, $"{Section}:SessionLifetime", "must be at least RefreshTokenLifetime"))
            .Concat(Settings.Check(o.SigningKeys.Store.Length > 0, $"{Section}:SigningKeys:Store", "is required"))
            .Concat(Settings.Check(o.SigningKeys.Secret.Length > 0, $"{Section}:SigningKeys:Secret", "is required"))
            .Concat(Settings.Check(o.SigningKeys.RefreshInterval > TimeSpan.Zero, $"{Section}:SigningKeys:RefreshInterval", "must be positive"))
            .Concat(Settings.Check(o.RateLimits.PerAccount > 0, $"{Section}:RateLimits:PerAccount", "must be positive"))
            .Concat(Settings.Check(o.RateLimits.PerAddress > 0, $"{Section}:RateLimits:PerAddress", "must be positive"))
            .Concat(Settings.Check(o.RateLimits.Window > TimeSpan.Zero, $"{Section}:RateLimits:Window", "must be positive"));
}

/// <summary>
/// Signing keys come from a Dapr secret store (in Kubernetes, the built-in <c>kubernetes</c> store reads a Secret):
/// secret <see cref="Secret"/> holds one PKCS#8 PEM EC P-256 private key per entry, named by its key ID. Tokens are
/// signed with the entry whose name sorts last (name keys by date, e.g. <c>2026-11-24</c>).
/// </summary>
public sealed class SigningKeyOptions
{
    public string Store { get; set; } = "secretstore";

    public string Secret { get; set; } = "auth-signing-keys";

    /// <summary>How often the secret is read again, to pick up a rotation.</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>Sign-in and refresh attempts per sliding window, per account and per client address (per replica).</summary>
public sealed class RateLimitOptions
{
    public int PerAccount { get; set; } = 10;

    public int PerAddress { get; set; } = 60;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
