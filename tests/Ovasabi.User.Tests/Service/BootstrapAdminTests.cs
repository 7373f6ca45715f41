using Grpc.Core;
using Ovasabi.Testing;
using Ovasabi.Testing.Sidecars;
using Ovasabi.User.V1;

namespace Ovasabi.User.Tests.Service;

/// <summary>A user platform of its own (its tests restart the app and start more instances of it); its bootstrap administrator is the platform's.</summary>
public sealed class BootstrapAdminPlatform(PostgresServer postgres, RedisServer redis) : UserPlatform(postgres, redis)
{
    public const string Username = AdminUsername;
    public const string Email = AdminEmail;
    public const string Password = AdminPassword;

    /// <summary>The environment variables that configure a bootstrap administrator.</summary>
    public static Dictionary<string, string?> Settings(string? username, string? email, string? password) => new()
    {
        ["User__BootstrapAdmin__Username"] = username,
        ["User__BootstrapAdmin__Email"] = email,
        ["User__BootstrapAdmin__Password"] = password,
    };

    /// <summary>The user app's environment with other bootstrap settings (null: not set at all), for another instance of the app.</summary>
    public Dictionary<string, string?> AppEnvironmentWith(Dictionary<string, string?> settings)
    {
        var environment = AppEnvironment();
        foreach (var (name, value) in settings)
        {
            if (value is null)
            {
                environment.Remove(name);
            }
            else
            {
                environment[name] = value;
            }
        }
        return environment;
    }
}

/// <summary>
/// The bootstrap administrator: created at start-up as CreateUser and AssignRole would, left alone on restarts, created
/// once by replicas starting together, and refused (the app exits) when configured in part or against the rules.
/// </summary>
public sealed class BootstrapAdminTests(BootstrapAdminPlatform platform) : IClassFixture<BootstrapAdminPlatform>
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private UserService.UserServiceClient Users => platform.Users;

    [Fact]
    public async Task The_configured_administrator_exists_with_the_admin_role_and_logs_in_with_the_configured_password()
    {
        var admin = await Users.GetUserAsync(new GetUserRequest { Username = BootstrapAdminPlatform.Username }, cancellationToken: Cancel);
        var login = await Users.VerifyCredentialsAsync(
            new VerifyCredentialsRequest { Login = BootstrapAdminPlatform.Email, Password = BootstrapAdminPlatform.Password }, cancellationToken: Cancel);

        Assert.Equal(BootstrapAdminPlatform.Email, admin.Email);
        Assert.Equal(["admin", "user"], admin.Roles);
        Assert.Equal(admin.UserId, login.User.UserId);
        Assert.Equal(["admin", "user"], login.Roles);
        // Created, then given the role: the events CreateUser and AssignRole write.
        var rows = await platform.OutboxRowsAsync(admin.UserId);
        Assert.Equal(["user.user.created", "user.role.assigned"], rows.Select(r => r.Topic));
        Assert.Contains("\"role\": \"admin\"", rows[1].Payload, StringComparison.Ordinal);
        Assert.DoesNotContain(BootstrapAdminPlatform.Password, platform.App.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Restarting_the_app_changes_nothing()
    {
        var before = await Users.GetUserAsync(new GetUserRequest { Username = BootstrapAdminPlatform.Username }, cancellationToken: Cancel);
        var hash = await PasswordHashAsync(BootstrapAdminPlatform.Username);
        var rows = await platform.OutboxRowsAsync(before.UserId);

        await platform.RestartAppAsync();

        var after = await platform.DirectUsers.GetUserAsync(new GetUserRequest { Username = BootstrapAdminPlatform.Username }, cancellationToken: Cancel);
        Assert.Equal(before.UserId, after.UserId);
        Assert.Equal(before.Audit.Version, after.Audit.Version);
        Assert.Equal(before.Roles, after.Roles);
        Assert.Equal(hash, await PasswordHashAsync(BootstrapAdminPlatform.Username));
        Assert.Equal(rows.Select(r => r.Id), (await platform.OutboxRowsAsync(before.UserId)).Select(r => r.Id));
        Assert.Contains("exists with the admin role; nothing to do", platform.App.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_existing_user_named_by_the_configuration_gets_the_admin_role_and_keeps_its_password()
    {
        var request = UserPlatform.NewUser();
        var existing = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        await using (await StartAnotherAppAsync(BootstrapAdminPlatform.Settings(request.Username, "someone.else@example.com", "a password never applied")))
        {
        }

        var roles = await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = existing.UserId }, cancellationToken: Cancel);
        Assert.Equal(["admin", "user"], roles.Roles);
        await Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel);
        var error = await Assert.ThrowsAsync<RpcException>(async () => await Users.VerifyCredentialsAsync(
            new VerifyCredentialsRequest { Login = request.Username, Password = "a password never applied" }, cancellationToken: Cancel));
        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        var user = await Users.GetUserAsync(new GetUserRequest { UserId = existing.UserId }, cancellationToken: Cancel);
        Assert.Equal(request.Email, user.Email);
        Assert.Equal(["user.user.created", "user.role.assigned"], (await platform.OutboxRowsAsync(existing.UserId)).Select(r => r.Topic));
    }

    [Fact]
    public async Task Two_replicas_starting_together_create_the_administrator_once()
    {
        var username = "admin-" + Guid.NewGuid().ToString("N")[..8];
        var settings = BootstrapAdminPlatform.Settings(username, username + "@example.com", "two replicas, one admin");

        var replicas = await Task.WhenAll(StartAnotherAppAsync(settings), StartAnotherAppAsync(settings));
        foreach (var replica in replicas)
        {
            await replica.DisposeAsync();
        }

        var admin = await Users.GetUserAsync(new GetUserRequest { Username = username }, cancellationToken: Cancel);
        Assert.Equal(["admin", "user"], admin.Roles);
        Assert.Equal(["user.user.created", "user.role.assigned"], (await platform.OutboxRowsAsync(admin.UserId)).Select(r => r.Topic));
    }

    [Theory]
    [InlineData("Username")]
    [InlineData("Email")]
    [InlineData("Password")]
    public async Task A_partial_configuration_stops_the_app_naming_the_missing_key(string missing)
    {
        var settings = BootstrapAdminPlatform.Settings("partial-admin", "partial-admin@example.com", "configured only in part");
        settings["User__BootstrapAdmin__" + missing] = null;

        var (code, output) = await RunUntilExitAsync(settings);

        Assert.NotEqual(0, code);
        Assert.Contains($"not set: User:BootstrapAdmin:{missing} (env User__BootstrapAdmin__{missing})", output, StringComparison.Ordinal);
        Assert.DoesNotContain("configured only in part", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_administrator_the_rules_refuse_stops_the_app_with_the_reason()
    {
        var (code, output) = await RunUntilExitAsync(BootstrapAdminPlatform.Settings("refused-admin", "refused-admin@example.com", "qwertyuiop"));

        Assert.NotEqual(0, code);
        Assert.Contains("the bootstrap administrator (User:BootstrapAdmin) is refused: password: is too common", output, StringComparison.Ordinal);
        await Assert.ThrowsAsync<RpcException>(async () => await Users.GetUserAsync(new GetUserRequest { Username = "refused-admin" }, cancellationToken: Cancel));
    }

    /// <summary>
    /// Another instance of the user app on the platform's database and sidecar (which it only calls out through), as
    /// another replica would run; it is ready once its start-up, the bootstrap included, is done.
    /// </summary>
    private Task<AppProcess> StartAnotherAppAsync(Dictionary<string, string?> settings) =>
        AppProcess.StartAsync("user", FreePort.Next(), platform.Sidecar, platform.AppEnvironmentWith(settings), Cancel);

    private async Task<(int Code, string Output)> RunUntilExitAsync(Dictionary<string, string?> settings)
    {
        await using var app = AppProcess.Launch("user", FreePort.Next(), platform.Sidecar, platform.AppEnvironmentWith(settings));
        var code = await app.WaitForExitAsync(ExitTimeout, Cancel);
        return (code, app.Output);
    }

    private Task<string> PasswordHashAsync(string username) =>
        platform.ScalarAsync<string>("SELECT password_hash FROM service_user WHERE username = @name", ("name", username));
}
