using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1;
using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;
using Ovasabi.Testing.Platform;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Sessions end for real: after Logout, RevokeSession or RevokeAllSessions the access tokens of the ended sessions
/// are refused at their next call by the auth and the user service, while the user's other sessions go on.
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class SessionTests(AuthPlatform platform)
{
    /// <summary>Another session of the same user (a second device).</summary>
    private Task<TokenPair> SecondSessionAsync(SignedInUser user) => platform.Login(user.User.Username, user.Password).ResponseAsync;

    [Fact]
    public async Task Logout_ends_the_callers_session_only_its_access_and_refresh_tokens_are_refused_and_it_is_announced()
    {
        var user = await platform.SignUpAsync();
        var other = await SecondSessionAsync(user);

        await platform.AuthClient(user.AccessToken).LogoutAsync(new Empty(), cancellationToken: Cancel);

        var (auth, users) = await platform.RejectedEverywhereAsync(user.AccessToken, user.Id);
        Assert.Equal(("SESSION_ENDED", "SESSION_ENDED"), (Reason(auth), Reason(users)));
        await FailsAsync(StatusCode.Unauthenticated, () => platform.AuthClient().RefreshAsync(new RefreshRequest { RefreshToken = user.Tokens.RefreshToken }, cancellationToken: Cancel));
        await platform.GetSelf(other.AccessToken, user.Id);
        var revoked = await platform.EventAsync<SessionRevoked>(TopicName.Of(AuthTopic.SessionRevoked), e => e.SessionId == user.Tokens.SessionId);
        Assert.Equal(("logout", user.Id), (revoked.Reason, revoked.UserId));
    }

    [Fact]
    public async Task ListSessions_lists_the_live_sessions_and_marks_the_callers_as_current()
    {
        var user = await platform.SignUpAsync();
        var other = await SecondSessionAsync(user);
        var ended = await SecondSessionAsync(user);
        await platform.AuthClient(ended.AccessToken).LogoutAsync(new Empty(), cancellationToken: Cancel);

        var listed = await platform.ListOwnSessions(other.AccessToken);

        Assert.Equal(new[] { user.Tokens.SessionId, other.SessionId }.Order(), listed.Sessions.Select(s => s.SessionId).Order());
        Assert.Equal(other.SessionId, Assert.Single(listed.Sessions, s => s.Current).SessionId);
        Assert.All(listed.Sessions, s => Assert.Equal(user.Id, s.UserId));
        Assert.All(listed.Sessions, s => Assert.True(s.ExpireTime.ToDateTimeOffset() > DateTimeOffset.UtcNow));
    }

    [Fact]
    public async Task RevokeSession_ends_that_session_only()
    {
        var user = await platform.SignUpAsync();
        var other = await SecondSessionAsync(user);

        await platform.AuthClient(other.AccessToken).RevokeSessionAsync(new RevokeSessionRequest { SessionId = user.Tokens.SessionId }, cancellationToken: Cancel);

        await platform.RejectedEverywhereAsync(user.AccessToken, user.Id);
        await platform.GetSelf(other.AccessToken, user.Id);
        Assert.Equal(other.SessionId, Assert.Single((await platform.ListOwnSessions(other.AccessToken)).Sessions).SessionId);
        var revoked = await platform.EventAsync<SessionRevoked>(TopicName.Of(AuthTopic.SessionRevoked), e => e.SessionId == user.Tokens.SessionId);
        Assert.Equal("revoked", revoked.Reason);
    }

    [Fact]
    public async Task RevokeAllSessions_ends_every_session_of_the_caller_including_its_own()
    {
        var user = await platform.SignUpAsync();
        var second = await SecondSessionAsync(user);
        var third = await SecondSessionAsync(user);

        var response = await platform.AuthClient(second.AccessToken).RevokeAllSessionsAsync(new RevokeAllSessionsRequest(), cancellationToken: Cancel);

        Assert.Equal(3, response.Revoked);
        foreach (var token in new[] { user.AccessToken, second.AccessToken, third.AccessToken })
        {
            await platform.RejectedEverywhereAsync(token, user.Id);
        }
        var fresh = await SecondSessionAsync(user);
        Assert.Equal(fresh.SessionId, Assert.Single((await platform.ListOwnSessions(fresh.AccessToken)).Sessions).SessionId);
    }

    [Fact]
    public async Task Changing_the_password_ends_every_other_session_of_the_user_and_keeps_the_one_that_changed_it()
    {
        var (user, password) = await platform.CreateAccountAsync();
        var here = await platform.Login(user.Username, password);
        var elsewhere = await platform.Login(user.Username, password);

        await platform.UserClient(here.AccessToken).ChangePasswordAsync(
            new Ovasabi.User.V1.ChangePasswordRequest { UserId = user.UserId, CurrentPassword = password, NewPassword = "a brand new passphrase" }, cancellationToken: Cancel);

        await EventuallyAsync(async () =>
        {
            try
            {
                await platform.GetSelf(elsewhere.AccessToken, user.UserId);
                return false;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Unauthenticated)
            {
                return true;
            }
        }, ended => ended, what: "the other session to end");
        await platform.GetSelf(here.AccessToken, user.UserId);
        var revoked = await platform.EventAsync<SessionRevoked>(TopicName.Of(AuthTopic.SessionRevoked), e => e.UserId == user.UserId);
        Assert.Equal("password_changed", revoked.Reason);
        Assert.Single((await platform.ListOwnSessions(here.AccessToken)).Sessions);
    }

    [Fact]
    public async Task A_plain_user_cannot_revoke_or_list_another_users_sessions_but_an_admin_can_end_them()
    {
        var user = await platform.SignUpAsync();
        var victim = await platform.SignUpAsync();
        var mine = platform.AuthClient(user.AccessToken);

        var revoke = await FailsAsync(StatusCode.NotFound, () => mine.RevokeSessionAsync(new RevokeSessionRequest { SessionId = victim.Tokens.SessionId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => mine.RevokeAllSessionsAsync(new RevokeAllSessionsRequest { UserId = victim.Id }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => mine.ListSessionsAsync(new ListSessionsRequest { UserId = victim.Id }, cancellationToken: Cancel));

        // Missing, as a session that does not exist would be: the caller learns nothing about it.
        var missing = await FailsAsync(StatusCode.NotFound, () => mine.RevokeSessionAsync(new RevokeSessionRequest { SessionId = Guid.NewGuid().ToString() }, cancellationToken: Cancel));
        Assert.Equal(Reason(missing), Reason(revoke));
        await platform.GetSelf(victim.AccessToken, victim.Id);
        var admin = platform.AuthClient(platform.Admin.AccessToken);
        Assert.Single((await admin.ListSessionsAsync(new ListSessionsRequest { UserId = victim.Id }, cancellationToken: Cancel)).Sessions);
        Assert.Equal(1, (await admin.RevokeAllSessionsAsync(new RevokeAllSessionsRequest { UserId = victim.Id }, cancellationToken: Cancel)).Revoked);
        await platform.RejectedEverywhereAsync(victim.AccessToken, victim.Id);
    }
}
