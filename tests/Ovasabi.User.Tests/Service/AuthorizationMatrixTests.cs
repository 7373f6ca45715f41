using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ovasabi.Auth.V1;
using Ovasabi.Testing.Platform;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// Every RPC of the user and auth services called by every kind of caller, through the sidecars as services call each
/// other: allowed means the call got past authorization (whatever the handler then answered), denied means the
/// authorization check refused it. An RPC missing from the table fails the test, so no RPC ships without a decision.
/// </summary>
public sealed class AuthorizationMatrixTests(SharedUserPlatform platform)
{
    private const bool A = true;
    private const bool D = false;

    /// <summary>Who calls. A plain user is asked once about another user's resource and once about their own.</summary>
    public enum Principal { Anonymous, User, UserOnOwn, Support, Admin, Service }

    private sealed record Target(string UserId);

    /// <summary>A caller's clients of both services (through the sidecars) and, for a signed-in user, their user ID.</summary>
    private sealed record Clients(UserService.UserServiceClient Users, AuthService.AuthServiceClient Auth, string? UserId);

    /// <summary>One RPC: the call for a target user, the expected outcome per principal (in enum order), and whether it ends the caller's session.</summary>
    private sealed record Row(string Method, Func<Clients, Target, Task> Call, bool[] Expected, bool EndsSession = false);

    private static Func<Clients, Target, Task> User(Func<UserService.UserServiceClient, Target, Task> call) =>
        (clients, target) => call(clients.Users, target);

    private static Func<Clients, Target, Task> Auth(Func<AuthService.AuthServiceClient, Target, Task> call) =>
        (clients, target) => call(clients.Auth, target);

    private static readonly Row[] Rows =
    [
        //                                                                                                  anon user own support admin service
        new("ovasabi.user.v1.UserService/CreateUser", User((c, _) => c.CreateUserAsync(UserPlatform.NewUser()).ResponseAsync), [A, A, A, A, A, A]),
        new("ovasabi.user.v1.UserService/GetUser", User((c, t) => c.GetUserAsync(new GetUserRequest { UserId = t.UserId }).ResponseAsync), [D, D, A, A, A, A]),
        new("ovasabi.user.v1.UserService/UpdateUser", User((c, t) => c.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = t.UserId, User = new V1.User { Profile = new Profile { DisplayName = "Matrix" } }, UpdateMask = new FieldMask { Paths = { "profile.display_name" } },
        }).ResponseAsync), [D, D, A, D, A, D]),
        new("ovasabi.user.v1.UserService/SuspendUser", User((c, t) => c.SuspendUserAsync(new SuspendUserRequest { UserId = t.UserId, Reason = "matrix" }).ResponseAsync), [D, D, D, A, A, D]),
        new("ovasabi.user.v1.UserService/ReactivateUser", User((c, t) => c.ReactivateUserAsync(new ReactivateUserRequest { UserId = t.UserId }).ResponseAsync), [D, D, D, A, A, D]),
        new("ovasabi.user.v1.UserService/DeleteUser", User((c, t) => c.DeleteUserAsync(new DeleteUserRequest { UserId = t.UserId }).ResponseAsync), [D, D, A, D, A, D], EndsSession: true),
        new("ovasabi.user.v1.UserService/ListUsers", User((c, _) => c.ListUsersAsync(new ListUsersRequest()).ResponseAsync), [D, D, D, A, A, D]),
        new("ovasabi.user.v1.UserService/SearchUsers", User((c, _) => c.SearchUsersAsync(new SearchUsersRequest { Prefix = "u" }).ResponseAsync), [D, D, D, A, A, D]),
        new("ovasabi.user.v1.UserService/VerifyCredentials", User((c, _) => c.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = "nobody", Password = "not the password" }).ResponseAsync), [D, D, D, D, A, A]),
        new("ovasabi.user.v1.UserService/ChangePassword", User((c, t) => c.ChangePasswordAsync(new ChangePasswordRequest
        {
            UserId = t.UserId, CurrentPassword = "not the password", NewPassword = "a brand new passphrase",
        }).ResponseAsync), [D, D, A, D, A, D]),
        new("ovasabi.user.v1.UserService/ListRoleCatalog", User((c, _) => c.ListRoleCatalogAsync(new Empty()).ResponseAsync), [D, A, A, A, A, A]),
        new("ovasabi.user.v1.UserService/AssignRole", User((c, t) => c.AssignRoleAsync(new AssignRoleRequest { UserId = t.UserId, Role = "support" }).ResponseAsync), [D, D, D, D, A, D]),
        new("ovasabi.user.v1.UserService/RemoveRole", User((c, t) => c.RemoveRoleAsync(new RemoveRoleRequest { UserId = t.UserId, Role = "support" }).ResponseAsync), [D, D, D, D, A, D]),
        new("ovasabi.user.v1.UserService/ListUserRoles", User((c, t) => c.ListUserRolesAsync(new ListUserRolesRequest { UserId = t.UserId }).ResponseAsync), [D, D, A, A, A, A]),
        new("ovasabi.user.v1.UserService/GetPreferences", User((c, t) => c.GetPreferencesAsync(new GetPreferencesRequest { UserId = t.UserId }).ResponseAsync), [D, D, A, A, A, D]),
        new("ovasabi.user.v1.UserService/SetPreferences", User((c, t) => c.SetPreferencesAsync(new SetPreferencesRequest
        {
            UserId = t.UserId, Category = "locale", Values = { ["language"] = "en-GB" },
        }).ResponseAsync), [D, D, A, D, A, D]),
        new("ovasabi.auth.v1.AuthService/Login", Auth((c, _) => c.LoginAsync(new LoginRequest { Login = "nobody", Password = "not the password" }).ResponseAsync), [A, A, A, A, A, A]),
        new("ovasabi.auth.v1.AuthService/Refresh", Auth((c, _) => c.RefreshAsync(new RefreshRequest { RefreshToken = "not-a-refresh-token" }).ResponseAsync), [A, A, A, A, A, A]),
        new("ovasabi.auth.v1.AuthService/Logout", Auth((c, _) => c.LogoutAsync(new Empty()).ResponseAsync), [D, A, A, A, A, A], EndsSession: true),
        new("ovasabi.auth.v1.AuthService/ListSessions", Auth((c, t) => c.ListSessionsAsync(new ListSessionsRequest { UserId = t.UserId }).ResponseAsync), [D, D, A, A, A, D]),
        new("ovasabi.auth.v1.AuthService/RevokeSession", Auth((c, _) => c.RevokeSessionAsync(new RevokeSessionRequest { SessionId = Guid.NewGuid().ToString() }).ResponseAsync), [D, A, A, A, A, D]),
        new("ovasabi.auth.v1.AuthService/RevokeAllSessions", Auth((c, t) => c.RevokeAllSessionsAsync(new RevokeAllSessionsRequest { UserId = t.UserId }).ResponseAsync), [D, D, A, A, A, D], EndsSession: true),
        new("ovasabi.auth.v1.AuthService/Authorize", Auth((c, _) => c.AuthorizeAsync(new AuthorizeRequest { AccessToken = "not-a-token", Permission = "user.users.read" }).ResponseAsync), [D, D, D, D, A, A]),
        new("ovasabi.auth.v1.AuthService/GetJwks", Auth((c, _) => c.GetJwksAsync(new Empty()).ResponseAsync), [A, A, A, A, A, A]),
    ];

    [Fact]
    public void The_matrix_lists_every_RPC_of_the_user_and_auth_services()
    {
        var declared = new[] { UserService.Descriptor, AuthService.Descriptor }
            .SelectMany(service => service.Methods.Select((MethodDescriptor m) => $"{service.FullName}/{m.Name}"));

        Assert.Equal(declared.Order(StringComparer.Ordinal), Rows.Select(r => r.Method).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Every_RPC_allows_or_denies_each_kind_of_caller_as_the_table_says()
    {
        var shared = await PrincipalsAsync();
        var mismatches = new List<string>();
        foreach (var row in Rows)
        {
            // Victims are per row, since admins and support may suspend or delete them; a row that ends the caller's
            // session gets callers of its own.
            var victim = await platform.UserClient(platform.Admin.AccessToken).CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
            var callers = row.EndsSession ? await PrincipalsAsync() : shared;
            foreach (var principal in System.Enum.GetValues<Principal>())
            {
                var clients = callers[principal];
                var target = new Target(principal == Principal.UserOnOwn ? clients.UserId! : victim.UserId);
                var (allowed, outcome) = await OutcomeAsync(() => row.Call(clients, target));
                if (allowed != row.Expected[(int)principal])
                {
                    mismatches.Add($"{row.Method} as {principal}: expected {(row.Expected[(int)principal] ? "allowed" : "denied")}, got {outcome}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }

    [Fact]
    public async Task A_user_finds_themselves_by_username_and_by_email_but_another_user_by_username_is_PermissionDenied()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.SignUpAsync();
        var client = platform.UserClient(user.AccessToken);

        Assert.Equal(user.Id, (await client.GetUserAsync(new GetUserRequest { Username = user.User.Username.ToUpperInvariant() }, cancellationToken: Cancel)).UserId);
        Assert.Equal(user.Id, (await client.GetUserAsync(new GetUserRequest { Email = user.User.Email }, cancellationToken: Cancel)).UserId);
        var error = await FailsAsync(StatusCode.PermissionDenied, () => client.GetUserAsync(new GetUserRequest { Username = other.User.Username }, cancellationToken: Cancel));
        Assert.Equal("PERMISSION_DENIED", Reason(error));
    }

    private async Task<Dictionary<Principal, Clients>> PrincipalsAsync()
    {
        var user = await platform.SignUpAsync();
        var support = await platform.SignUpAsync("support");
        var admin = await platform.SignUpAsync("admin");
        return new()
        {
            [Principal.Anonymous] = As(null),
            [Principal.User] = As(user),
            [Principal.UserOnOwn] = As(user),
            [Principal.Support] = As(support),
            [Principal.Admin] = As(admin),
            [Principal.Service] = new(platform.UserClientAsService(), platform.AuthClientAsService(), null),
        };
    }

    private Clients As(SignedInUser? user) => new(platform.UserClient(user?.AccessToken), platform.AuthClient(user?.AccessToken), user?.Id);

    /// <summary>Whether the call passed authorization, and what it answered.</summary>
    private static async Task<(bool Allowed, string Outcome)> OutcomeAsync(Func<Task> call)
    {
        try
        {
            await call();
            return (true, "OK");
        }
        catch (RpcException e)
        {
            var reason = e.GetRpcStatus()?.GetDetail<ErrorInfo>()?.Reason;
            var denied = (e.StatusCode == StatusCode.Unauthenticated && reason == "AUTHENTICATION_REQUIRED")
                         || (e.StatusCode == StatusCode.PermissionDenied && reason == "PERMISSION_DENIED");
            return (!denied, $"{e.StatusCode} {reason}: {e.Status.Detail}");
        }
    }
}
