using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>
/// How an app checks its callers (configuration section <c>Security</c>). Access tokens are verified locally against
/// the auth service's public keys; their sessions are looked up in a state store the auth service writes.
/// </summary>
public sealed record SecurityOptions
{
    /// <summary>The <c>iss</c> every access token must carry.</summary>
    public string Issuer { get; init; } = "ovasabi-auth";

    /// <summary>The <c>aud</c> every access token must carry.</summary>
    public string Audience { get; init; } = "ovasabi";

    /// <summary>The Dapr app ID of the auth service, which serves the signing keys (GetJwks).</summary>
    public string AuthAppId { get; init; } = "auth";

    /// <summary>
    /// The Dapr state store holding sessions (<c>auth:session:&lt;id&gt;</c>). Every app reads what auth writes, so the
    /// component must not prefix keys with the app ID (<c>keyPrefix: name</c>).
    /// </summary>
    public string SessionStoreName { get; init; } = "sessionstore";

    /// <summary>
    /// Dapr's <c>APP_API_TOKEN</c>: when set, every call except gRPC health must carry it as <c>dapr-api-token</c>,
    /// proving it came through the sidecar (so <c>dapr-caller-app-id</c> can be believed).
    /// </summary>
    public string? AppApiToken { get; init; }

    /// <summary>
    /// Proxies in front of the platform that append the client's address to <c>x-forwarded-for</c> (the edge: 1). The
    /// client's address is the entry the outermost one appended; 0 ignores the header.
    /// </summary>
    public int TrustedProxyHops { get; init; } = 1;

    /// <summary>Tolerance for clocks that disagree when checking <c>exp</c> and <c>nbf</c>.</summary>
    public TimeSpan ClockSkew { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long fetched public keys are used before they are fetched again.</summary>
    public TimeSpan KeyRefreshInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A token signed by an unknown key triggers a fetch at most this often.</summary>
    public TimeSpan KeyRefetchDelay { get; init; } = TimeSpan.FromSeconds(2);

    public static SecurityOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Security");
        var defaults = new SecurityOptions();
        return new SecurityOptions
        {
            Issuer = section["Issuer"] ?? defaults.Issuer,
            Audience = section["Audience"] ?? defaults.Audience,
            AuthAppId = section["AuthAppId"] ?? defaults.AuthAppId,
            SessionStoreName = section["SessionStoreName"] ?? defaults.SessionStoreName,
            AppApiToken = string.IsNullOrEmpty(configuration["APP_API_TOKEN"]) ? null : configuration["APP_API_TOKEN"],
            TrustedProxyHops = section["TrustedProxyHops"] is not { } hops ? defaults.TrustedProxyHops
                : int.TryParse(hops, NumberStyles.Integer, CultureInfo.InvariantCulture, out var count) && count >= 0 ? count
                : throw new InvalidOperationException("Security:TrustedProxyHops must be a whole number, 0 or more"),
            ClockSkew = Seconds(section["ClockSkewSeconds"]) ?? defaults.ClockSkew,
            KeyRefreshInterval = Seconds(section["KeyRefreshSeconds"]) ?? defaults.KeyRefreshInterval,
            KeyRefetchDelay = Seconds(section["KeyRefetchSeconds"]) ?? defaults.KeyRefetchDelay,
        };
    }

    private static TimeSpan? Seconds(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) ? TimeSpan.FromSeconds(seconds) : null;
}
