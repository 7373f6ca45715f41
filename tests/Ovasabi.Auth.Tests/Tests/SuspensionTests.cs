using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1;
using Ovasabi.Auth.V1.Events;
using Ovasabi.Contracts;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Suspending a user on the user service signs them out everywhere (the auth service ends their sessions when the
/// user.user.suspended event reaches it), and their next login says the account is suspended.
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class SuspensionTests(AuthPlatform platform)
{
    [Fact]
    public async Task Suspending_a_user_revokes_their_sessions_and_their_login_then_answers_FailedPrecondition()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.Login(user.User.Username, user.Password);

        await platform.UserClient(platform.Admin.AccessToken).SuspendUserAsync(new SuspendUserRequest { UserId = user.Id, Reason = "acceptance test" }, cancellationToken: Cancel);

        await EventuallyAsync(() => StatusOfSelfAsync(user.AccessToken, user.Id), s => s == StatusCode.Unauthenticated, what: "the suspended user's access token being refused");
        await platform.RejectedEverywhereAsync(user.AccessToken, user.Id);
        await platform.RejectedEverywhereAsync(other.AccessToken, user.Id);
        await FailsAsync(StatusCode.Unauthenticated, () => platform.AuthClient().RefreshAsync(new RefreshRequest { RefreshToken = other.RefreshToken }, cancellationToken: Cancel));
        var revoked = await platform.EventAsync<SessionRevoked>(TopicName.Of(AuthTopic.SessionRevoked), e => e.SessionId == other.SessionId);
        Assert.Equal("user_suspended", revoked.Reason);

        var login = await FailsAsync(StatusCode.FailedPrecondition, () => platform.Login(user.User.Username, user.Password));
        Assert.Equal("ACCOUNT_SUSPENDED", Reason(login));
        var failed = await platform.EventAsync<LoginFailed>(TopicName.Of(AuthTopic.LoginFailed), e => e.Login == user.User.Username);
        Assert.Equal(("suspended", user.Id), (failed.Reason, failed.UserId));
    }

    [Fact]
    public async Task A_suspended_users_wrong_password_gets_the_ordinary_invalid_login_answer()
    {
        var user = await platform.SignUpAsync();
        await platform.UserClient(platform.Admin.AccessToken).SuspendUserAsync(new SuspendUserRequest { UserId = user.Id }, cancellationToken: Cancel);

        var error = await FailsAsync(StatusCode.Unauthenticated, () => platform.Login(user.User.Username, user.Password + "x"));

        Assert.Equal("INVALID_CREDENTIALS", Reason(error));
    }

    /// <summary>OK while the token works, else the status it is refused with.</summary>
    private async Task<StatusCode> StatusOfSelfAsync(string accessToken, string userId)
    {
        try
        {
            await platform.GetSelf(accessToken, userId);
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }
}
