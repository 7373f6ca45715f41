namespace Ovasabi.Auth.Domain;

/// <summary>What a presented refresh token gets.</summary>
public enum RefreshVerdict
{
    /// <summary>Unknown token, or its session ended: sign in again.</summary>
    Invalid,

    /// <summary>Used before: one of its two holders stole it, so the session ends for both.</summary>
    Reused,

    /// <summary>Unused for its whole lifetime.</summary>
    Expired,

    /// <summary>Exchanged for a new pair; this one is used up.</summary>
    Rotate,
}

/// <summary>Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP, refresh token rotation).</summary>
public static class RefreshRules
{
    /// <param name="sessionLive">Whether the token's session exists, is not revoked and has not reached its absolute end.</param>
    /// <param name="usedAt">When the token was exchanged, if it was.</param>
    /// <param name="expiresAt">The token's own end.</param>
    /// <param name="now">Now.</param>
    public static RefreshVerdict Judge(bool sessionLive, DateTimeOffset? usedAt, DateTimeOffset expiresAt, DateTimeOffset now) =>
        !sessionLive ? RefreshVerdict.Invalid
        : usedAt is not null ? RefreshVerdict.Reused
        : expiresAt <= now ? RefreshVerdict.Expired
        : RefreshVerdict.Rotate;
}
