using Ovasabi.Testing.Platform;
using Grpc.Core;
using Ovasabi.Contracts;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// The bootstrap administrator: created at start-up as CreateUser and AssignRole would, left alone on restarts, created
/// once by replicas starting together, never an account it did not create, never again once deleted, and refused (the
/// app exits) when configured in part, against the rules or onto someone else's account.
/// </summary>
[Collection(OwnServersCollection.Name)]
public sealed class BootstrapAdminTests(OwnServersPlatform platform)
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private UserService.UserServiceClient Users => platform.Users;

    [Fact]
    public async Task The_configured_administrator_exists_with_the_admin_role_and_logs_in_with_the_configured_password()
    {
        var admin = await Users.GetUserAsync(new GetUserRequest { Username = AppPlatform.AdminUsername }, cancellationToken: Cancel);
        var login = await Users.VerifyCredentialsAsync(
            new VerifyCredentialsRequest { Login = AppPlatform.AdminEmail, Password = AppPlatform.AdminPassword }, cancellationToken: Cancel);

        Assert.Equal(AppPlatform.AdminEmail, admin.Email);
        Assert.Equal(["admin", "user"], admin.Roles);
        Assert.Equal(admin.UserId, login.User.UserId);
        Assert.Equal(["admin", "user"], login.Roles);
        // Created, then given the role: the events CreateUser and AssignRole write.
        var rows = await platform.OutboxRowsAsync(admin.UserId);
        Assert.Equal([TopicName.Of(UserTopic.UserCreated), TopicName.Of(UserTopic.RoleAssigned)], rows.Select(r => r.Topic));
        Assert.Contains("\"role\": \"admin\"", rows[1].Payload, StringComparison.Ordinal);
        Assert.DoesNotContain(AppPlatform.AdminPassword, platform.UserApp.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restarting_the_app_changes_nothing()
    {
        var before = await Users.GetUserAsync(new GetUserRequest { Username = AppPlatform.AdminUsername }, cancellationToken: Cancel);
        var hash = await PasswordHashAsync(AppPlatform.AdminUsername);
        var rows = await platform.OutboxRowsAsync(before.UserId);

        await platform.RestartAppAsync(AppPlatform.UserAppId);

        var after = await platform.DirectUsers.GetUserAsync(new GetUserRequest { Username = AppPlatform.AdminUsername }, cancellationToken: Cancel);
        Assert.Equal(before.UserId, after.UserId);
        Assert.Equal(before.Audit.Version, after.Audit.Version);
        Assert.Equal(before.Roles, after.Roles);
        Assert.Equal(hash, await PasswordHashAsync(AppPlatform.AdminUsername));
        Assert.Equal(rows.Select(r => r.Id), (await platform.OutboxRowsAsync(before.UserId)).Select(r => r.Id));
        Assert.Contains("exists with the admin role; nothing to do", platform.UserApp.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Username")]
    [InlineData("Email")]
    public async Task An_account_the_bootstrap_did_not_create_is_never_promoted_and_the_app_stops_naming_the_key(string key)
    {
        // Registered before the operator turned the bootstrap on, as anyone may register.
        var request = UserPlatform.NewUser();
        var squatter = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        var settings = key == "Username"
            ? OwnServersPlatform.BootstrapSettings(request.Username, $"{Guid.NewGuid():N}@example.com", "a password never applied")
            : OwnServersPlatform.BootstrapSettings("admin-" + Guid.NewGuid().ToString("N")[..8], request.Email, "a password never applied");

        var (code, output) = await RunUntilExitAsync(settings);

        Assert.NotEqual(0, code);
        Assert.Contains($"(User:BootstrapAdmin:{key}) belongs to an account the bootstrap did not create, which is never made an administrator", output, StringComparison.Ordinal);
        Assert.Equal(["user"], (await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = squatter.UserId }, cancellationToken: Cancel)).Roles);
        Assert.Equal([TopicName.Of(UserTopic.UserCreated)], (await platform.OutboxRowsAsync(squatter.UserId)).Select(r => r.Topic));
    }

    [Fact]
    public async Task An_existing_administrator_with_the_configured_username_and_email_is_adopted_unchanged()
    {
        var request = UserPlatform.NewUser();
        var existing = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = existing.UserId, Role = "admin" }, cancellationToken: Cancel);
        var version = (await Users.GetUserAsync(new GetUserRequest { UserId = existing.UserId }, cancellationToken: Cancel)).Audit.Version;

        await using (var replica = await StartAnotherAppAsync(OwnServersPlatform.BootstrapSettings(request.Username, request.Email, "a password never applied")))
        {
            Assert.Contains("Adopted the existing administrator", replica.Output, StringComparison.Ordinal);
        }

        var user = await Users.GetUserAsync(new GetUserRequest { UserId = existing.UserId }, cancellationToken: Cancel);
        Assert.Equal(["admin", "user"], user.Roles);
        Assert.Equal(version, user.Audit.Version);
        await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = "a password never applied" }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task The_bootstrap_administrator_gets_the_role_back_but_once_deleted_it_is_not_created_again_nor_its_name_promoted()
    {
        var username = "admin-" + Guid.NewGuid().ToString("N")[..8];
        var settings = OwnServersPlatform.BootstrapSettings(username, username + "@example.com", "created by the bootstrap");
        await (await StartAnotherAppAsync(settings)).DisposeAsync();
        var created = await Users.GetUserAsync(new GetUserRequest { Username = username }, cancellationToken: Cancel);

        // Demoted by another administrator: the next start gives the role back.
        await Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = created.UserId, Role = "admin" }, cancellationToken: Cancel);
        await (await StartAnotherAppAsync(settings)).DisposeAsync();
        Assert.Equal(["admin", "user"], (await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = created.UserId }, cancellationToken: Cancel)).Roles);

        // Soft-deleted: the app still starts, and nothing is created again.
        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        await using (var replica = await StartAnotherAppAsync(settings))
        {
            Assert.Contains("was deleted; it is not created again", replica.Output, StringComparison.Ordinal);
        }
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Username = username }, cancellationToken: Cancel));

        // Erased, then the name registered by someone else: still started, the newcomer stays a plain user.
        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId, HardDelete = true }, cancellationToken: Cancel);
        var newcomer = await Users.CreateUserAsync(new CreateUserRequest { Username = username, Email = username + "@example.com", Password = "correct horse battery" }, cancellationToken: Cancel);
        await (await StartAnotherAppAsync(settings)).DisposeAsync();
        Assert.Equal(["user"], (await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = newcomer.UserId }, cancellationToken: Cancel)).Roles);
    }

    [Fact]
    public async Task Two_replicas_starting_together_create_the_administrator_once()
    {
        var username = "admin-" + Guid.NewGuid().ToString("N")[..8];
        var settings = OwnServersPlatform.BootstrapSettings(username, username + "@example.com", "two replicas, one admin");

        var replicas = await Task.WhenAll(StartAnotherAppAsync(settings), StartAnotherAppAsync(settings));
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        var admin = await Users.GetUserAsync(new GetUserRequest { Username = username }, cancellationToken: Cancel);
        Assert.Equal(["admin", "user"], admin.Roles);
        Assert.Equal([TopicName.Of(UserTopic.UserCreated), TopicName.Of(UserTopic.RoleAssigned)], (await platform.OutboxRowsAsync(admin.UserId)).Select(r => r.Topic));
    }

    [Theory]
    [InlineData("Username")]
    [InlineData("Email")]
    [InlineData("Password")]
    public async Task A_partial_configuration_stops_the_app_naming_the_missing_key(string missing)
    {
        var settings = OwnServersPlatform.BootstrapSettings("partial-admin", "partial-admin@example.com", "configured only in part");
        settings["User__BootstrapAdmin__" + missing] = null;

        var (code, output) = await RunUntilExitAsync(settings);

        Assert.NotEqual(0, code);
        Assert.Contains($"not set: User:BootstrapAdmin:{missing} (env User__BootstrapAdmin__{missing})", output, StringComparison.Ordinal);
        Assert.DoesNotContain("configured only in part", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_administrator_the_rules_refuse_stops_the_app_with_the_reason()
    {
        var (code, output) = await RunUntilExitAsync(OwnServersPlatform.BootstrapSettings("refused-admin", "refused-admin@example.com", "qwertyuiop"));

        Assert.NotEqual(0, code);
        Assert.Contains("the bootstrap administrator (User:BootstrapAdmin) is refused: password: is too common", output, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RpcException>(async () => await Users.GetUserAsync(new GetUserRequest { Username = "refused-admin" }, cancellationToken: Cancel));
    }

    /// <summary>
    /// Another instance of the user app on the platform's database and sidecar (which it only calls out through), as
    /// another replica would run; it is ready once its start-up, the bootstrap included, is done.
    /// </summary>
    private Task<AppProcess> StartAnotherAppAsync(Dictionary<string, string?> settings) =>
        AppProcess.StartAsync("user", FreePort.Next(), platform.UserSidecar, platform.AppEnvironmentWith(settings), Cancel);

    private async Task<(int Code, string Output)> RunUntilExitAsync(Dictionary<string, string?> settings)
    {
        await using var app = AppProcess.Launch("user", FreePort.Next(), platform.UserSidecar, platform.AppEnvironmentWith(settings));
        var code = await app.WaitForExitAsync(ExitTimeout, Cancel);
        return (code, app.Output);
    }

    private Task<string> PasswordHashAsync(string username) =>
        platform.ScalarAsync<string>("SELECT password_hash FROM service_user WHERE username = @name", ("name", username));
}
