using System.Buffers.Text;
using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Sign-in: the token pair a login returns, the access token working on another service, and failed logins that
/// do not tell a wrong password from an unknown or a locked account; each outcome is announced.
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class LoginTests(AuthPlatform platform)
{
    [Fact]
    public async Task A_login_returns_an_ES256_access_token_with_every_claim_and_an_opaque_refresh_token()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var before = DateTimeOffset.UtcNow.AddSeconds(-5).ToUnixTimeSeconds();

        var tokens = await platform.Login(user.Username, password);

        var jwt = Jwt.Decode(tokens.AccessToken);
        var (kid, key) = platform.SigningKeys.Current;
        Assert.Equal("ES256", jwt.Header["alg"]?.GetValue<string>());
        Assert.Equal(kid, jwt.Header["kid"]?.GetValue<string>());
        Assert.True(jwt.SignedBy(key), "the access token is not signed by the platform's current key");
        Assert.Equal("ovasabi-auth", jwt.Text("iss"));
        Assert.Equal("ovasabi", jwt.Text("aud"));
        Assert.Equal(user.UserId, jwt.Text("sub"));
        Assert.Equal(tokens.SessionId, jwt.Text("sid"));
        Assert.True(Guid.TryParse(jwt.Text("jti"), out _), $"jti {jwt.Text("jti")} is not a unique id");
        Assert.Equal(["user"], jwt.Payload["roles"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.InRange(jwt.Seconds("iat"), before, DateTimeOffset.UtcNow.AddSeconds(5).ToUnixTimeSeconds());
        Assert.Equal(jwt.Seconds("iat"), jwt.Seconds("nbf"));
        // The fixture's access-token lifetime is 30 minutes.
        Assert.Equal(30 * 60, jwt.Seconds("exp") - jwt.Seconds("iat"));
        Assert.Equal(jwt.Seconds("exp"), tokens.AccessTokenExpiresAt.Seconds);
        Assert.Equal("Bearer", tokens.TokenType);
        // Opaque: 256 random bits, not a JWT, nothing readable in it.
        Assert.DoesNotContain('.', tokens.RefreshToken);
        Assert.Equal(32, Base64Url.DecodeFromChars(tokens.RefreshToken).Length);
        Assert.True(tokens.RefreshTokenExpiresAt.ToDateTimeOffset() > tokens.AccessTokenExpiresAt.ToDateTimeOffset());
    }

    [Fact]
    public async Task The_access_token_of_a_login_works_on_the_user_service_and_the_login_is_announced_with_session_and_address()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var address = AuthPlatform.NewAddress();

        var tokens = await platform.Login(user.Username, password, address);

        var self = await platform.GetSelf(tokens.AccessToken, user.UserId);
        Assert.Equal(user.Username, self.Username);
        var announced = await platform.EventAsync<LoginSucceeded>(TopicName.Of(AuthTopic.LoginSucceeded), e => e.SessionId == tokens.SessionId);
        Assert.Equal(user.UserId, announced.UserId);
        Assert.Equal(address, announced.ClientAddress);
    }

    [Fact]
    public async Task Login_accepts_the_email_in_any_case_as_well_as_the_username()
    {
        var (user, password) = await platform.CreateAccountAsync();

        var tokens = await platform.Login(user.Email.ToUpperInvariant(), password);

        Assert.Equal(user.UserId, Jwt.Decode(tokens.AccessToken).Text("sub"));
    }

    [Fact]
    public async Task A_wrong_password_an_unknown_user_and_a_locked_account_get_the_same_Unauthenticated_answer_and_are_announced()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var (locked, lockedPassword) = await platform.CreateAccountAsync();
        var unknown = "nobody-" + Guid.NewGuid().ToString("N")[..10];
        for (var i = 0; i < AuthPlatform.MaxFailures; i++)
        {
            await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(locked.Username, "wrong " + i));
        }

        // Right after locking: the lock lasts only 2 s here.
        var lockedAccount = await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(locked.Username, lockedPassword));
        var wrongPassword = await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(user.Username, password + "x"));
        var unknownUser = await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(unknown, password));

        foreach (var other in new[] { unknownUser, lockedAccount })
        {
            Assert.Equal(wrongPassword.Status.Detail, other.Status.Detail);
            Assert.Equal(Reason(wrongPassword), Reason(other));
        }
        Assert.Equal("INVALID_CREDENTIALS", Reason(wrongPassword));
        var wrongEvent = await platform.EventAsync<LoginFailed>(TopicName.Of(AuthTopic.LoginFailed), e => e.Login == user.Username);
        Assert.Equal(("invalid_credentials", user.UserId), (wrongEvent.Reason, wrongEvent.UserId));
        var unknownEvent = await platform.EventAsync<LoginFailed>(TopicName.Of(AuthTopic.LoginFailed), e => e.Login == unknown);
        Assert.Equal(("invalid_credentials", ""), (unknownEvent.Reason, unknownEvent.UserId));
        var lockedEvent = await platform.EventAsync<LoginFailed>(TopicName.Of(AuthTopic.LoginFailed), e => e.Login == locked.Username && e.Reason == "locked");
        Assert.Equal(locked.UserId, lockedEvent.UserId);
    }
}
