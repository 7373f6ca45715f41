using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Ovasabi.Auth.Domain;
using Ovasabi.ServiceDefaults.Security;

namespace Ovasabi.Auth.UnitTests;

/// <summary>What tokens carry and how long they and their sessions live.</summary>
public sealed class TokenRulesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private readonly TestKey _key = new();

    private TokenIssuer Issuer(AuthOptions? options = null) =>
        new(_key, Options.Create(options ?? new AuthOptions()), Options.Create(new SecurityOptions { Issuer = "iss-test", Audience = "aud-test" }));

    [Fact]
    public async Task An_access_token_is_ES256_and_carries_subject_session_roles_issuer_and_audience()
    {
        var user = Guid.CreateVersion7();
        var session = Guid.CreateVersion7();

        var issued = Issuer().Issue(user, session, ["user", "support"], "refresh", Now.AddDays(1), Now);

        var result = await new JsonWebTokenHandler().ValidateTokenAsync(issued.AccessToken, new TokenValidationParameters
        {
            ValidIssuer = "iss-test",
            ValidAudience = "aud-test",
            IssuerSigningKey = _key.Public,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            LifetimeValidator = (_, _, _, _) => true,
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var token = (JsonWebToken)result.SecurityToken;
        Assert.Equal((user.ToString(), session.ToString()), (token.Subject, token.GetClaim(TokenClaims.SessionId).Value));
        Assert.Equal(["user", "support"], token.Claims.Where(c => c.Type == TokenClaims.Roles).Select(c => c.Value));
        Assert.Equal(_key.Id, token.Kid);
    }

    [Fact]
    public void An_access_token_lives_the_configured_lifetime_from_now()
    {
        var issued = Issuer(new AuthOptions { AccessTokenLifetime = TimeSpan.FromMinutes(3) }).Issue(Guid.CreateVersion7(), Guid.CreateVersion7(), [], "r", Now.AddDays(1), Now);

        Assert.Equal(Now.AddMinutes(3), issued.AccessTokenExpiresAt);
        Assert.Equal(Now.AddMinutes(3).ToUnixTimeSeconds(), new JsonWebToken(issued.AccessToken).ValidTo.Subtract(DateTime.UnixEpoch).TotalSeconds);
    }

    [Fact]
    public void Every_token_has_its_own_id()
    {
        var issuer = Issuer();
        var (user, session) = (Guid.CreateVersion7(), Guid.CreateVersion7());

        var first = new JsonWebToken(issuer.Issue(user, session, [], "r", Now.AddDays(1), Now).AccessToken);
        var second = new JsonWebToken(issuer.Issue(user, session, [], "r", Now.AddDays(1), Now).AccessToken);

        Assert.NotEqual(first.Id, second.Id);
    }

    [Fact]
    public void A_refresh_token_expires_after_its_idle_lifetime_or_with_its_session_whichever_is_first()
    {
        var issuer = Issuer(new AuthOptions { RefreshTokenLifetime = TimeSpan.FromDays(7) });

        Assert.Equal(Now.AddDays(7), issuer.RefreshTokenExpiry(Now, sessionExpiresAt: Now.AddDays(30)));
        Assert.Equal(Now.AddDays(2), issuer.RefreshTokenExpiry(Now, sessionExpiresAt: Now.AddDays(2)));
    }

    [Fact]
    public void A_session_ends_its_lifetime_after_it_started()
    {
        Assert.Equal(Now.AddDays(30), Issuer().SessionExpiry(Now));
    }

    [Fact]
    public void Refresh_tokens_are_256_random_bits_stored_only_as_their_SHA256()
    {
        var (token, hash) = TokenIssuer.NewRefreshToken();
        var (other, _) = TokenIssuer.NewRefreshToken();

        Assert.Equal(32, Base64UrlEncoder.DecodeBytes(token).Length);
        Assert.NotEqual(token, other);
        Assert.Equal(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)), hash);
        Assert.Equal(hash, TokenIssuer.Hash(token));
    }

    [Theory]
    [InlineData(false, null, 1, RefreshVerdict.Invalid)]
    [InlineData(false, -1, -1, RefreshVerdict.Invalid)]
    [InlineData(true, -1, 1, RefreshVerdict.Reused)]
    [InlineData(true, -1, -1, RefreshVerdict.Reused)]
    [InlineData(true, null, 0, RefreshVerdict.Expired)]
    [InlineData(true, null, -1, RefreshVerdict.Expired)]
    [InlineData(true, null, 1, RefreshVerdict.Rotate)]
    public void A_presented_refresh_token_is_invalid_reused_expired_or_rotated(bool sessionLive, int? usedMinutesAgo, int expiresInMinutes, RefreshVerdict verdict)
    {
        var usedAt = usedMinutesAgo is { } ago ? Now.AddMinutes(ago) : (DateTimeOffset?)null;

        Assert.Equal(verdict, RefreshRules.Judge(sessionLive, usedAt, Now.AddMinutes(expiresInMinutes), Now));
    }

    [Fact]
    public void The_default_settings_have_no_problems_and_a_bad_one_names_its_key()
    {
        Assert.Empty(AuthOptions.Problems(new AuthOptions()));
        Assert.Contains("Auth:SessionLifetime: must be at least RefreshTokenLifetime",
            AuthOptions.Problems(new AuthOptions { SessionLifetime = TimeSpan.FromDays(1) }));
        Assert.Contains("Auth:AccessTokenLifetime: must be positive", AuthOptions.Problems(new AuthOptions { AccessTokenLifetime = TimeSpan.Zero }));
        Assert.Contains("Auth:RateLimits:PerAccount: must be positive", AuthOptions.Problems(new AuthOptions { RateLimits = new() { PerAccount = 0 } }));
    }

    private sealed class TestKey : ISigningCredentialsSource, IDisposable
    {
        private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public string Id => "test-key";

        public SigningCredentials Current => new(new ECDsaSecurityKey(_key) { KeyId = Id }, SecurityAlgorithms.EcdsaSha256);

        public SecurityKey Public => new ECDsaSecurityKey(ECDsa.Create(_key.ExportParameters(false))) { KeyId = Id };

        public void Dispose() => _key.Dispose();
    }
}
