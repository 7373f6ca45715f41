using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Ovasabi.Auth.V1;
using Ovasabi.Testing.Platform;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Platform.AuthorizationMatrix;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// Every RPC of the user and auth services called by every kind of caller, through the sidecars as in production (see
/// <see cref="AuthorizationMatrix"/>). The app columns follow protos/ovasabi/access.yaml: auth may verify credentials
/// and read users, finance may read users, every app fetches the signing keys, and nothing else.
/// </summary>
public sealed class AuthorizationMatrixTests(SharedUserPlatform platform)
{
    private static Func<MatrixCaller, string, Task> User(Func<UserService.UserServiceClient, string, Task> call) =>
        (caller, target) => call(new UserService.UserServiceClient(caller.To("user")), target);

    private static Func<MatrixCaller, string, Task> Auth(Func<AuthService.AuthServiceClient, string, Task> call) =>
        (caller, target) => call(new AuthService.AuthServiceClient(caller.To("auth")), target);

    private static readonly AuthorizationMatrix.Row[] Rows =
    [
        //                                                                                                  anon user own support admin | app: user auth finance notification
        new("ovasabi.user.v1.UserService/CreateUser", User((c, _) => c.CreateUserAsync(UserPlatform.NewUser()).ResponseAsync), [A, A, A, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/GetUser", User((c, t) => c.GetUserAsync(new GetUserRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, A, A, A]),
        new("ovasabi.user.v1.UserService/UpdateUser", User((c, t) => c.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = t, User = new V1.User { Profile = new Profile { DisplayName = "Matrix" } }, UpdateMask = new FieldMask { Paths = { "profile.display_name" } },
        }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/SuspendUser", User((c, t) => c.SuspendUserAsync(new SuspendUserRequest { UserId = t, Reason = "matrix" }).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/ReactivateUser", User((c, t) => c.ReactivateUserAsync(new ReactivateUserRequest { UserId = t }).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/DeleteUser", User((c, t) => c.DeleteUserAsync(new DeleteUserRequest { UserId = t }).ResponseAsync), [D, D, A, D, A, D, D, D, D], EndsSession: true),
        new("ovasabi.user.v1.UserService/ListUsers", User((c, _) => c.ListUsersAsync(new ListUsersRequest()).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/SearchUsers", User((c, _) => c.SearchUsersAsync(new SearchUsersRequest { Prefix = "u" }).ResponseAsync), [D, D, D, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/VerifyCredentials", User((c, _) => c.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = "nobody", Password = "not the password" }).ResponseAsync), [D, D, D, D, A, D, A, D, D]),
        new("ovasabi.user.v1.UserService/ChangePassword", User((c, t) => c.ChangePasswordAsync(new ChangePasswordRequest
        {
            UserId = t, CurrentPassword = "not the password", NewPassword = "a brand new passphrase",
        }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/ListRoleCatalog", User((c, _) => c.ListRoleCatalogAsync(new Empty()).ResponseAsync), [D, A, A, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/AssignRole", User((c, t) => c.AssignRoleAsync(new AssignRoleRequest { UserId = t, Role = "support" }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/RemoveRole", User((c, t) => c.RemoveRoleAsync(new RemoveRoleRequest { UserId = t, Role = "support" }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/ListUserRoles", User((c, t) => c.ListUserRolesAsync(new ListUserRolesRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/GetPreferences", User((c, t) => c.GetPreferencesAsync(new GetPreferencesRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.user.v1.UserService/SetPreferences", User((c, t) => c.SetPreferencesAsync(new SetPreferencesRequest
        {
            UserId = t, Category = "locale", Values = { ["language"] = "en-GB" },
        }).ResponseAsync), [D, D, A, D, A, D, D, D, D]),
        new("ovasabi.auth.v1.AuthService/Login", Auth((c, _) => c.LoginAsync(new LoginRequest { Login = "nobody", Password = "not the password" }).ResponseAsync), [A, A, A, A, A, D, D, D, D]),
        new("ovasabi.auth.v1.AuthService/Refresh", Auth((c, _) => c.RefreshAsync(new RefreshRequest { RefreshToken = "not-a-refresh-token" }).ResponseAsync), [A, A, A, A, A, D, D, D, D]),
        new("ovasabi.auth.v1.AuthService/Logout", Auth((c, _) => c.LogoutAsync(new Empty()).ResponseAsync), [D, A, A, A, A, D, D, D, D], EndsSession: true),
        new("ovasabi.auth.v1.AuthService/ListSessions", Auth((c, t) => c.ListSessionsAsync(new ListSessionsRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D]),
        new("ovasabi.auth.v1.AuthService/RevokeSession", Auth((c, _) => c.RevokeSessionAsync(new RevokeSessionRequest { SessionId = Guid.NewGuid().ToString() }).ResponseAsync), [D, A, A, A, A, D, D, D, D]),
        new("ovasabi.auth.v1.AuthService/RevokeAllSessions", Auth((c, t) => c.RevokeAllSessionsAsync(new RevokeAllSessionsRequest { UserId = t }).ResponseAsync), [D, D, A, A, A, D, D, D, D], EndsSession: true),
        new("ovasabi.auth.v1.AuthService/Authorize", Auth((c, _) => c.AuthorizeAsync(new AuthorizeRequest { AccessToken = "not-a-token", Permission = "user.users.read" }).ResponseAsync), [D, D, D, D, A, D, D, D, D]),
        new("ovasabi.auth.v1.AuthService/GetJwks", Auth((c, _) => c.GetJwksAsync(new Empty()).ResponseAsync), [A, A, A, A, A, A, D, A, A]),
    ];

    [Fact]
    public void The_matrix_lists_every_RPC_of_the_user_and_auth_services_with_one_outcome_per_caller() =>
        AuthorizationMatrix.CoversEveryMethod(Rows, UserService.Descriptor, AuthService.Descriptor);

    [Fact]
    public Task Every_RPC_allows_or_denies_each_kind_of_caller_as_the_table_says() => AuthorizationMatrix.VerifyAsync(platform, Rows);

    [Fact]
    public async Task A_user_finds_themselves_by_username_and_by_email_but_another_user_is_NotFound_exactly_like_nobody()
    {
        var user = await platform.SignUpAsync();
        var other = await platform.SignUpAsync();
        var client = platform.UserClient(user.AccessToken);

        Assert.Equal(user.Id, (await client.GetUserAsync(new GetUserRequest { Username = user.User.Username.ToUpperInvariant() }, cancellationToken: Cancel)).UserId);
        Assert.Equal(user.Id, (await client.GetUserAsync(new GetUserRequest { Email = user.User.Email }, cancellationToken: Cancel)).UserId);
        // Registered or not, the answer is the same: nothing tells which names and addresses exist.
        var registered = await FailsAsync(StatusCode.NotFound, () => client.GetUserAsync(new GetUserRequest { Username = other.User.Username }, cancellationToken: Cancel));
        var unregistered = await FailsAsync(StatusCode.NotFound, () => client.GetUserAsync(new GetUserRequest { Username = "nobody" + Guid.NewGuid().ToString("N")[..8] }, cancellationToken: Cancel));
        var registeredEmail = await FailsAsync(StatusCode.NotFound, () => client.GetUserAsync(new GetUserRequest { Email = other.User.Email }, cancellationToken: Cancel));
        Assert.Equal(Reason(unregistered), Reason(registered));
        Assert.Equal(Reason(unregistered), Reason(registeredEmail));
        Assert.Equal($"user {other.User.Username} not found", registered.Status.Detail);
    }
}
