using Ovasabi.ServiceDefaults.Hosting;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>
/// How an app checks its callers (configuration section <c>Security</c>). Access tokens are verified locally against
/// the auth service's public keys; their sessions are looked up in a state store the auth service writes.
/// </summary>
public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>The <c>iss</c> every access token must carry.</summary>
    public string Issuer { get; set; } = "ovasabi-auth";

    /// <summary>The <c>aud</c> every access token must carry.</summary>
    public string Audience { get; set; } = "ovasabi";

    /// <summary>
    /// The Dapr state store holding sessions (<c>auth:session:&lt;id&gt;</c>). Every app reads what auth writes, so the
    /// component must not prefix keys with the app ID (<c>keyPrefix: name</c>).
    /// </summary>
    public string SessionStoreName { get; set; } = "sessionstore";

    /// <summary>
    /// Dapr's <c>APP_API_TOKEN</c>: when set, every call except gRPC health must carry it as <c>dapr-api-token</c>,
    /// proving it came through the sidecar (so <c>dapr-caller-app-id</c> can be believed).
    /// </summary>
    public string? AppApiToken { get; set; }

    /// <summary>
    /// Proxies in front of the platform that append the client's address to <c>x-forwarded-for</c> (the edge: 1). The
    /// client's address is the entry the outermost one appended; 0 ignores the header.
    /// </summary>
    public int TrustedProxyHops { get; set; } = 1;

    /// <summary>Tolerance for clocks that disagree when checking <c>exp</c> and <c>nbf</c>.</summary>
    public double ClockSkewSeconds { get; set; } = 30;

    /// <summary>How long fetched public keys are used before they are fetched again.</summary>
    public double KeyRefreshSeconds { get; set; } = 300;

    /// <summary>A token signed by an unknown key triggers a fetch at most this often.</summary>
    public double KeyRefetchSeconds { get; set; } = 2;

    /// <summary>
    /// How long a verified access token whose session was live is trusted again without a look-up (0: every call looks
    /// its session up): a session ended elsewhere stops its tokens on this app within this time.
    /// </summary>
    public double SessionCheckSeconds { get; set; } = 1;

    public TimeSpan ClockSkew => TimeSpan.FromSeconds(ClockSkewSeconds);

    public TimeSpan SessionCheckInterval => TimeSpan.FromSeconds(SessionCheckSeconds);

    public TimeSpan KeyRefreshInterval => TimeSpan.FromSeconds(KeyRefreshSeconds);

    public TimeSpan KeyRefetchDelay => TimeSpan.FromSeconds(KeyRefetchSeconds);

    public static IEnumerable<string> Problems(SecurityOptions o) =>
        Settings.Check(o.Issuer.Length > 0, $"{Section}:Issuer", "is required")
            .Concat(Settings.Check(o.Audience.Length > 0, $"{Section}:Audience", "is required"))
            .Concat(Settings.Check(o.SessionStoreName.Length > 0, $"{Section}:SessionStoreName", "is required"))
            .Concat(Settings.Check(o.TrustedProxyHops >= 0, $"{Section}:TrustedProxyHops", "must be a whole number, 0 or more"))
            .Concat(Settings.Check(o.ClockSkewSeconds is >= 0 and <= 300, $"{Section}:ClockSkewSeconds", "must be between 0 and 300"))
            .Concat(Settings.Check(o.SessionCheckSeconds is >= 0 and <= 60, $"{Section}:SessionCheckSeconds", "must be between 0 and 60"))
            .Concat(Settings.Check(o.KeyRefreshSeconds > 0, $"{Section}:KeyRefreshSeconds", "must be positive"))
            .Concat(Settings.Check(o.KeyRefetchSeconds > 0, $"{Section}:KeyRefetchSeconds", "must be positive"));
}
