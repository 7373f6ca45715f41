using System.Security.Cryptography;
using Google.Protobuf.WellKnownTypes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Ovasabi.Auth.V1;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Auth.Domain;

/// <summary>Issues token pairs: an ES256 access JWT and an opaque refresh token (only its hash is stored).</summary>
public sealed class TokenIssuer(SigningKeyRing keys, AuthOptions options, SecurityOptions security)
{
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>A new refresh token and the hash to store; 256 random bits, so a plain SHA-256 suffices (no guessing).</summary>
    public static (string Token, byte[] Hash) NewRefreshToken()
    {
        var token = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (token, Hash(token));
    }

    public static byte[] Hash(string refreshToken) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(refreshToken));

    public TokenPair Issue(Guid userId, Guid sessionId, IEnumerable<string> roles, string refreshToken, DateTimeOffset refreshExpiresAt, DateTimeOffset now)
    {
        var expires = now + options.AccessTokenLifetime;
        var accessToken = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = security.Issuer,
            Audience = security.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = keys.Current,
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Sub] = userId.ToString(),
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString(),
                [TokenClaims.SessionId] = sessionId.ToString(),
                [TokenClaims.Roles] = roles.ToArray(),
            },
        });
        return new TokenPair
        {
            AccessToken = accessToken,
            AccessTokenExpiresAt = Timestamp.FromDateTimeOffset(expires),
            RefreshToken = refreshToken,
            RefreshTokenExpiresAt = Timestamp.FromDateTimeOffset(refreshExpiresAt),
            SessionId = sessionId.ToString(),
            TokenType = "Bearer",
        };
    }
}
