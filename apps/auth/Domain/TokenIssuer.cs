using Microsoft.Extensions.Options;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Auth.Domain;

/// <summary>The key that signs tokens issued now.</summary>
public interface ISigningCredentialsSource
{
    SigningCredentials Current { get; }
}

/// <summary>A signed-in session's tokens: the access JWT and the refresh token, each with its end.</summary>
public sealed record IssuedTokens(string AccessToken, DateTimeOffset AccessTokenExpiresAt, string RefreshToken, DateTimeOffset RefreshTokenExpiresAt, Guid SessionId);

/// <summary>Issues token pairs: an ES256 access JWT and an opaque refresh token (only its hash is stored).</summary>
public sealed class TokenIssuer(ISigningCredentialsSource keys, IOptions<AuthOptions> options, IOptions<SecurityOptions> security)
{
    private readonly JsonWebTokenHandler _handler = new();

    /// <summary>A new refresh token and the hash to store; 256 random bits, so a plain SHA-256 suffices (no guessing).</summary>
    public static (string Token, byte[] Hash) NewRefreshToken()
    {
        var token = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (token, Hash(token));
    }

    /// <summary>A refresh token ends when it goes unused for its lifetime, and with its session at the latest.</summary>
    public DateTimeOffset RefreshTokenExpiry(DateTimeOffset now, DateTimeOffset sessionExpiresAt) =>
        Min(now + options.Value.RefreshTokenLifetime, sessionExpiresAt);

    /// <summary>A session's absolute end, however often it is refreshed.</summary>
    public DateTimeOffset SessionExpiry(DateTimeOffset startedAt) => startedAt + options.Value.SessionLifetime;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    public static byte[] Hash(string refreshToken) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(refreshToken));

    public IssuedTokens Issue(Guid userId, Guid sessionId, IEnumerable<string> roles, string refreshToken, DateTimeOffset refreshExpiresAt, DateTimeOffset now)
    {
        var expires = now + options.Value.AccessTokenLifetime;
        var accessToken = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = security.Value.Issuer,
            Audience = security.Value.Audience,
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
        return new IssuedTokens(accessToken, expires, refreshToken, refreshExpiresAt, sessionId);
    }
}
