using Grpc.Core;
using Ovasabi.Auth.Tests.Platform;
using Ovasabi.Auth.V1;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.Auth.Tests.Tests;

/// <summary>
/// Authorize, asked by an administrator (no app of the access table is granted it yet): whether a token's holder may do a permission on a user's resource, by
/// the roles the holder has now and by ownership; a token that does not verify is an answer (not allowed, with the
/// reason), not an error.
/// </summary>
[Collection(nameof(AuthCollection))]
public sealed class AuthorizeTests(AuthPlatform platform)
{
    private Task<AuthorizeResponse> AuthorizeAsync(string accessToken, string permission, string resource = "") =>
        platform.AuthClient(platform.Admin.AccessToken).AuthorizeAsync(new AuthorizeRequest { AccessToken = accessToken, Permission = permission, Resource = resource }, cancellationToken: Cancel).ResponseAsync;

    [Fact]
    public async Task A_plain_user_may_read_their_own_profile_but_not_another_users_nor_suspend_anyone()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.SignUpAsync();

        var own = await AuthorizeAsync(user.AccessToken, "user.users.read", user.Id);
        var others = await AuthorizeAsync(user.AccessToken, "user.users.read", other.Id);
        var suspend = await AuthorizeAsync(user.AccessToken, "user.users.suspend", other.Id);

        Assert.True(own.Allowed, own.Reason);
        Assert.Equal((user.Id, "user", ""), (own.UserId, Assert.Single(own.Roles), own.Reason));
        Assert.False(others.Allowed);
        Assert.Contains("user.users.read", others.Reason, StringComparison.Ordinal);
        Assert.False(suspend.Allowed);
        Assert.Equal(user.Id, suspend.UserId);
    }

    [Fact]
    public async Task Support_may_read_anyones_profile_but_not_update_it_and_an_admin_may_do_anything()
    {
        var support = await platform.SignUpAsync("support");
        var other = await platform.SignUpAsync();

        Assert.True((await AuthorizeAsync(support.AccessToken, "user.users.read", other.Id)).Allowed);
        Assert.False((await AuthorizeAsync(support.AccessToken, "user.users.update", other.Id)).Allowed);
        Assert.True((await AuthorizeAsync(platform.Admin.AccessToken, "user.users.update", other.Id)).Allowed);
        Assert.True((await AuthorizeAsync(platform.Admin.AccessToken, "user.roles.assign")).Allowed);
    }

    [Fact]
    public async Task Authorize_answers_by_the_roles_the_user_has_now_not_those_in_the_token()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.SignUpAsync();
        await platform.UserClient(platform.Admin.AccessToken).AssignRoleAsync(new AssignRoleRequest { UserId = user.Id, Role = "support" }, cancellationToken: Cancel);

        var answer = await AuthorizeAsync(user.AccessToken, "user.users.read", other.Id);

        Assert.True(answer.Allowed, answer.Reason);
        Assert.Equal(["support", "user"], answer.Roles.Order());
    }

    [Fact]
    public async Task An_invalid_or_ended_token_is_not_allowed_and_the_answer_says_why()
    {
        var user = await platform.SignUpAsync();
        var (kid, key) = platform.SigningKeys.Current;
        var expired = Jwt.Payload(user.Id, user.Tokens.SessionId, DateTimeOffset.UtcNow.AddHours(-1));

        var garbage = await AuthorizeAsync("not a token", "user.users.read", user.Id);
        var late = await AuthorizeAsync(Jwt.Es256(expired, key, kid), "user.users.read", user.Id);
        await platform.AuthClient(user.AccessToken).LogoutAsync(new Google.Protobuf.WellKnownTypes.Empty(), cancellationToken: Cancel);
        var ended = await AuthorizeAsync(user.AccessToken, "user.users.read", user.Id);

        foreach (var answer in new[] { garbage, late, ended })
        {
            Assert.False(answer.Allowed);
            Assert.NotEmpty(answer.Reason);
        }
        Assert.Contains("invalid", garbage.Reason, StringComparison.Ordinal);
        Assert.Contains("expired", late.Reason, StringComparison.Ordinal);
        Assert.Contains("session", ended.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_signed_in_user_may_not_call_Authorize_only_a_service_may()
    {
        var user = await platform.SignUpAsync();

        await FailsAsync(StatusCode.PermissionDenied, () => platform.AuthClient(user.AccessToken).AuthorizeAsync(
            new AuthorizeRequest { AccessToken = user.AccessToken, Permission = "user.users.read", Resource = user.Id }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.Unauthenticated, () => platform.AuthClient().AuthorizeAsync(
            new AuthorizeRequest { AccessToken = user.AccessToken, Permission = "user.users.read", Resource = user.Id }, cancellationToken: Cancel));
    }
}
