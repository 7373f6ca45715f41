using Ovasabi.Testing.Platform;
using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1;
using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Refresh-token rotation: every refresh returns a new pair for the same session and retires the token it used; a
/// retired token presented again means it was stolen, and ends the whole session.
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class RefreshTests(AuthPlatform platform)
{
    private AsyncUnaryCall<TokenPair> Refresh(string refreshToken) =>
        platform.AuthClient().RefreshAsync(new RefreshRequest { RefreshToken = refreshToken }, AuthPlatform.From(AuthPlatform.NewAddress()), cancellationToken: Cancel);

    [Fact]
    public async Task Refresh_returns_a_new_pair_for_the_same_session_whose_tokens_both_work()
    {
        var user = await platform.SignUpAsync();

        var second = await Refresh(user.Tokens.RefreshToken);

        Assert.Equal(user.Tokens.SessionId, second.SessionId);
        Assert.NotEqual(user.Tokens.RefreshToken, second.RefreshToken);
        Assert.NotEqual(Jwt.Decode(user.AccessToken).Text("jti"), Jwt.Decode(second.AccessToken).Text("jti"));
        Assert.Equal(user.Tokens.SessionId, Jwt.Decode(second.AccessToken).Text("sid"));
        await platform.GetSelf(second.AccessToken, user.Id);
        var third = await Refresh(second.RefreshToken);
        Assert.Equal(user.Tokens.SessionId, third.SessionId);
        await platform.GetSelf(third.AccessToken, user.Id);
    }

    [Fact]
    public async Task Replaying_a_used_refresh_token_is_refused_and_revokes_the_session_with_its_newest_tokens()
    {
        var user = await platform.SignUpAsync();
        var second = await Refresh(user.Tokens.RefreshToken);
        var third = await Refresh(second.RefreshToken);

        var replay = await FailsAsync(StatusCode.Unauthenticated, () => Refresh(user.Tokens.RefreshToken));

        Assert.Equal("REFRESH_TOKEN_REUSED", Reason(replay));
        await FailsAsync(StatusCode.Unauthenticated, () => Refresh(third.RefreshToken));
        var (auth, users) = await platform.RejectedEverywhereAsync(third.AccessToken, user.Id);
        Assert.Equal("SESSION_ENDED", Reason(auth));
        Assert.Equal("SESSION_ENDED", Reason(users));
        var reuse = await platform.EventAsync<TokenReuseDetected>(TopicName.Of(AuthTopic.TokenReuseDetected), e => e.SessionId == user.Tokens.SessionId);
        Assert.Equal(user.Id, reuse.UserId);
        var revoked = await platform.EventAsync<SessionRevoked>(TopicName.Of(AuthTopic.SessionRevoked), e => e.SessionId == user.Tokens.SessionId);
        Assert.Equal(("token_reuse", user.Id), (revoked.Reason, revoked.UserId));
    }

    [Fact]
    public async Task A_forged_admin_profile_written_into_the_user_cache_in_Redis_grants_nothing_at_refresh_or_in_Authorize()
    {
        var user = await platform.SignUpAsync();
        // The user service's cached profile (daprd's hash appid||key, field data), as whoever can write Redis could forge it.
        var forged = user.User.Clone();
        forged.Roles.Add("admin");
        await using (var redis = await platform.Redis.ConnectAsync())
        {
            await redis.GetDatabase(platform.RedisDatabase).HashSetAsync($"{AppPlatform.UserAppId}||user:user:{user.Id}:profile",
                [new("data", Google.Protobuf.JsonFormatter.Default.Format(forged)), new("version", "1")]);
        }

        var refreshed = await Refresh(user.Tokens.RefreshToken);
        var authorized = await platform.AuthClient(platform.Admin.AccessToken).AuthorizeAsync(
            new AuthorizeRequest { AccessToken = refreshed.AccessToken, Permission = "user.roles.assign" }, cancellationToken: Cancel);

        Assert.Equal(["user"], Jwt.Decode(refreshed.AccessToken).Payload["roles"]!.AsArray().Select(r => (string)r!));
        Assert.False(authorized.Allowed);
        Assert.Equal(["user"], authorized.Roles);
    }

    [Fact]
    public async Task A_refresh_token_nobody_issued_is_refused_as_Unauthenticated()
    {
        var error = await FailsAsync(StatusCode.Unauthenticated, () => Refresh("bm90LWlzc3VlZC1ieS1hbnlvbmUtYXQtYWxsLWV2ZXI"));

        Assert.Equal("REFRESH_TOKEN_INVALID", Reason(error));
    }

    [Fact]
    public async Task A_refreshed_access_token_carries_the_roles_the_user_has_now()
    {
        var user = await platform.SignUpAsync();
        await platform.UserClient(platform.Admin.AccessToken).AssignRoleAsync(new User.V1.AssignRoleRequest { UserId = user.Id, Role = "support" }, cancellationToken: Cancel);

        var refreshed = await Refresh(user.Tokens.RefreshToken);

        Assert.Equal(["support", "user"], Jwt.Decode(refreshed.AccessToken).Payload["roles"]!.AsArray().Select(r => r!.GetValue<string>()).Order());
    }
}
