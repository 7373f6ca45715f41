using Grpc.Core;
using Ovasabi.Auth.V1;
using Ovasabi.Testing.Platform;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// Roles rank (admin above support above user, the access table's order): support helps users but never acts on an
/// administrator's account or sessions.
/// </summary>
public sealed class SupportAndAdministratorTests(SharedUserPlatform platform)
{
    [Fact]
    public async Task Support_may_not_suspend_reactivate_or_end_the_sessions_of_an_administrator_but_may_those_of_a_user()
    {
        var support = await platform.SignUpAsync("support");
        var admin = await platform.SignUpAsync("admin");
        var user = await platform.SignUpAsync();
        var users = platform.UserClient(support.AccessToken);
        var auth = platform.AuthClient(support.AccessToken);

        await FailsAsync(StatusCode.PermissionDenied, () => users.SuspendUserAsync(new SuspendUserRequest { UserId = admin.Id, Reason = "support tried" }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => users.ReactivateUserAsync(new ReactivateUserRequest { UserId = admin.Id }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.PermissionDenied, () => auth.RevokeAllSessionsAsync(new RevokeAllSessionsRequest { UserId = admin.Id }, cancellationToken: Cancel));
        var adminSession = (await platform.AuthClient(admin.AccessToken).ListSessionsAsync(new ListSessionsRequest(), cancellationToken: Cancel)).Sessions.Single();
        await FailsAsync(StatusCode.PermissionDenied, () => auth.RevokeSessionAsync(new RevokeSessionRequest { SessionId = adminSession.SessionId }, cancellationToken: Cancel));

        var stillAdmin = await platform.UserClient(admin.AccessToken).GetUserAsync(new GetUserRequest { UserId = admin.Id }, cancellationToken: Cancel);
        Assert.Equal(UserStatus.Active, stillAdmin.Status);
        Assert.Equal(1, (await auth.RevokeAllSessionsAsync(new RevokeAllSessionsRequest { UserId = user.Id }, cancellationToken: Cancel)).Revoked);
        Assert.Equal(UserStatus.Suspended, (await users.SuspendUserAsync(new SuspendUserRequest { UserId = user.Id, Reason = "support may" }, cancellationToken: Cancel)).Status);
    }
}

/// <summary>
/// A platform whose only administrator is the bootstrap one: it cannot delete itself or give up the admin role, so the
/// platform never ends without anyone able to give roles; once another administrator exists, it can.
/// </summary>
[Collection(SoloCollection.Name)]
public sealed class LastAdministratorTests(SoloPlatform platform)
{
    [Fact]
    public async Task The_last_administrator_cannot_delete_or_demote_itself_until_another_one_exists()
    {
        var admin = platform.Users;
        var self = (await admin.GetUserAsync(new GetUserRequest { Username = AppPlatform.AdminUsername }, cancellationToken: Cancel)).UserId;

        var deleting = await FailsAsync(StatusCode.FailedPrecondition, () => admin.DeleteUserAsync(new DeleteUserRequest { UserId = self }, cancellationToken: Cancel));
        var demoting = await FailsAsync(StatusCode.FailedPrecondition, () => admin.RemoveRoleAsync(new RemoveRoleRequest { UserId = self, Role = "admin" }, cancellationToken: Cancel));
        var erasing = await FailsAsync(StatusCode.FailedPrecondition, () => admin.DeleteUserAsync(new DeleteUserRequest { UserId = self, HardDelete = true }, cancellationToken: Cancel));

        Assert.All(new[] { deleting, demoting, erasing }, e => Assert.Equal("LAST_ADMINISTRATOR", Reason(e)));
        Assert.Equal(["admin", "user"], (await admin.ListUserRolesAsync(new ListUserRolesRequest { UserId = self }, cancellationToken: Cancel)).Roles);

        var successor = await platform.SignUpAsync("admin");
        await admin.RemoveRoleAsync(new RemoveRoleRequest { UserId = self, Role = "admin" }, cancellationToken: Cancel);
        Assert.Equal(["admin", "user"], (await admin.ListUserRolesAsync(new ListUserRolesRequest { UserId = successor.Id }, cancellationToken: Cancel)).Roles);
        Assert.Equal(["user"], (await admin.ListUserRolesAsync(new ListUserRolesRequest { UserId = self }, cancellationToken: Cancel)).Roles);

        // The successor may give the role back (and the platform's other classes need it).
        await platform.UserClient(successor.AccessToken).AssignRoleAsync(new AssignRoleRequest { UserId = self, Role = "admin" }, cancellationToken: Cancel);
        Assert.Equal(["admin", "user"], (await admin.ListUserRolesAsync(new ListUserRolesRequest { UserId = self }, cancellationToken: Cancel)).Roles);
    }
}
