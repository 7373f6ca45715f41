using Google.Protobuf.WellKnownTypes;
using Ovasabi.Auth.Data;
using Ovasabi.Auth.Domain;
using Ovasabi.Auth.V1;

namespace Ovasabi.Auth.Grpc;

/// <summary>The auth contract's messages from what the service holds. No rule lives here.</summary>
internal static class AuthMapping
{
    public static TokenPair Tokens(IssuedTokens tokens) => new()
    {
        AccessToken = tokens.AccessToken,
        AccessTokenExpiresAt = Timestamp.FromDateTimeOffset(tokens.AccessTokenExpiresAt),
        RefreshToken = tokens.RefreshToken,
        RefreshTokenExpiresAt = Timestamp.FromDateTimeOffset(tokens.RefreshTokenExpiresAt),
        SessionId = tokens.SessionId.ToString(),
        TokenType = "Bearer",
    };

    public static Session Session(SessionRecord session, string? currentSessionId) => new()
    {
        SessionId = session.Master.Uuid.ToString(),
        UserId = session.UserId.ToString(),
        CreateTime = Timestamp.FromDateTimeOffset(session.CreatedAt),
        LastRefreshTime = Timestamp.FromDateTimeOffset(session.LastRefreshAt),
        ExpireTime = Timestamp.FromDateTimeOffset(session.ExpiresAt),
        ClientAddress = session.ClientAddress ?? "",
        UserAgent = session.UserAgent ?? "",
        Current = session.Master.Uuid.ToString() == currentSessionId,
    };
}
