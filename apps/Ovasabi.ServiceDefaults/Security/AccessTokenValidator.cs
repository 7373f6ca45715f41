using Microsoft.Extensions.Options;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Ovasabi.ServiceDefaults.Grpc;

namespace Ovasabi.ServiceDefaults.Security;

/// <summary>The claims of an ovasabi access token beyond the registered ones (iss, aud, sub, exp, iat, nbf, jti).</summary>
public static class TokenClaims
{
    public const string Roles = "roles";
    public const string SessionId = "sid";
}

/// <summary>
/// Verifies an access token (ES256 only, issuer, audience, lifetime, signature by a published key) and that its
/// session is still live. Every failure is Unauthenticated; only an expired token says so, so clients know to refresh.
/// A token verified moments ago is taken as it was (<see cref="RecentTokens"/>).
/// </summary>
public sealed class AccessTokenValidator(ISigningKeySource keys, SessionRegistry sessions, RecentTokens recent, IOptions<SecurityOptions> options,
    ILogger<AccessTokenValidator> logger)
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public async Task<Caller> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        if (recent.Find(token) is { } known)
        {
            return known;
        }
        string? keyId;
        try
        {
            keyId = _handler.ReadJsonWebToken(token).Kid;
        }
        catch (ArgumentException)
        {
            throw Invalid("not a JWT");
        }
        var result = await _handler.ValidateTokenAsync(token, new TokenValidationParameters
        {
            ValidIssuer = options.Value.Issuer,
            ValidAudience = options.Value.Audience,
            ValidAlgorithms = [EcJwk.Algorithm],
            IssuerSigningKeys = await keys.GetKeysAsync(keyId, cancellationToken),
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateLifetime = true,
            ClockSkew = options.Value.ClockSkew,
        });
        if (!result.IsValid)
        {
            throw result.Exception switch
            {
                SecurityTokenExpiredException => new UnauthenticatedException("the access token has expired: refresh it", "TOKEN_EXPIRED"),
                _ => Invalid(result.Exception?.GetType().Name ?? "rejected"),
            };
        }
        var jwt = (JsonWebToken)result.SecurityToken;
        var userId = jwt.Subject;
        var sessionId = jwt.TryGetPayloadValue<string>(TokenClaims.SessionId, out var sid) ? sid : null;
        if (string.IsNullOrEmpty(userId) || string.IsNullOrEmpty(sessionId))
        {
            throw Invalid("no sub or sid");
        }
        var live = await sessions.IsLiveAsync(sessionId, userId, cancellationToken);
        if (live == false)
        {
            throw new UnauthenticatedException("the session of this access token has ended: sign in again", "SESSION_ENDED");
        }
        var roles = jwt.TryGetPayloadValue<List<string>>(TokenClaims.Roles, out var list) ? list : [];
        var caller = new Caller(CallerKind.User, userId, roles, sessionId, TokenId: jwt.Id);
        if (live == true)
        {
            recent.Remember(token, caller, new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
        }
        return caller;
    }

    private UnauthenticatedException Invalid(string why)
    {
        logger.LogInformation("Rejected an access token: {Why}", why);
        return new UnauthenticatedException("the access token is invalid", "TOKEN_INVALID");
    }
}
