using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.Contracts;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// Credentials and erasure: the password hash never leaves the service, logins do not tell unknown users from wrong
/// passwords, suspended and deleted accounts cannot log in, and a hard delete erases the user's data.
/// </summary>
public sealed class UserSecurityTests(SharedUserPlatform platform)
{
    private const string HashMarker = "$argon2id";

    private UserService.UserServiceClient Users => platform.Users;

    [Fact]
    public async Task No_response_of_any_RPC_contains_a_password_hash()
    {
        var request = UserPlatform.NewUser();
        request.Profile = UserApiTests.FullProfile();
        var responses = new List<IMessage>();
        async Task<T> Keep<T>(AsyncUnaryCall<T> call) where T : IMessage
        {
            var response = await call;
            responses.Add(response);
            return response;
        }

        var created = await Keep(Users.CreateUserAsync(request, cancellationToken: Cancel));
        var id = created.UserId;
        await Keep(Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel));
        await Keep(Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel));
        await Keep(Users.GetUserAsync(new GetUserRequest { Username = request.Username }, cancellationToken: Cancel));
        await Keep(Users.GetUserAsync(new GetUserRequest { Email = request.Email }, cancellationToken: Cancel));
        var updated = await Keep(Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = id,
            ExpectedVersion = 1,
            User = new V1.User { Profile = new Profile { Bio = "updated" } },
            UpdateMask = new FieldMask { Paths = { "profile.bio" } },
        }, cancellationToken: Cancel));
        var suspended = await Keep(Users.SuspendUserAsync(new SuspendUserRequest { UserId = id, ExpectedVersion = updated.Audit.Version }, cancellationToken: Cancel));
        await Keep(Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = id, ExpectedVersion = suspended.Audit.Version }, cancellationToken: Cancel));
        await Keep(Users.ListUsersAsync(new ListUsersRequest { Page = new PageRequest { PageSize = 100 } }, cancellationToken: Cancel));
        await Keep(Users.SearchUsersAsync(new SearchUsersRequest { Prefix = request.Username }, cancellationToken: Cancel));
        await Keep(Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel));
        await Keep(Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = id, CurrentPassword = request.Password, NewPassword = "another good passphrase" }, cancellationToken: Cancel));
        await Keep(Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Email, Password = "another good passphrase" }, cancellationToken: Cancel));
        await Keep(Users.ListRoleCatalogAsync(new Empty(), cancellationToken: Cancel));
        await Keep(Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "admin" }, cancellationToken: Cancel));
        await Keep(Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = id, Role = "admin" }, cancellationToken: Cancel));
        await Keep(Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = id }, cancellationToken: Cancel));
        await Keep(Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "notifications", Values = { ["email"] = "true" } }, cancellationToken: Cancel));
        await Keep(Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = id }, cancellationToken: Cancel));
        await Keep(Users.DeleteUserAsync(new DeleteUserRequest { UserId = id }, cancellationToken: Cancel));

        Assert.Equal(20, responses.Count);
        Assert.All(responses, r => Assert.DoesNotContain(HashMarker, Json(r), StringComparison.Ordinal));
        Assert.All(responses, r => Assert.DoesNotContain("argon2", r.ToByteString().ToStringUtf8(), StringComparison.Ordinal));
        // Nor do the events or the outbox.
        await platform.EventsAsync(TopicName.Of(UserTopic.UserDeleted), id, timeout: EventTimeout);
        Assert.All(platform.AllEvents(), e => Assert.DoesNotContain("argon2", e.Data.ToStringUtf8(), StringComparison.Ordinal));
        Assert.Equal(0L, await platform.ScalarAsync<long>("SELECT count(*) FROM service_event WHERE payload::text LIKE '%argon2%'"));
        // The hash is stored, just never shown.
        Assert.StartsWith(HashMarker, await platform.ScalarAsync<string>("SELECT password_hash FROM service_user WHERE username = @name", ("name", request.Username)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_cached_profile_contains_a_password_hash()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);

        await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);

        var cached = await platform.CachedProfileAsync(created.UserId);
        Assert.NotNull(cached);
        Assert.DoesNotContain("argon2", cached, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyCredentials_answers_a_wrong_password_and_an_unknown_user_alike_with_Unauthenticated()
    {
        var request = UserPlatform.NewUser();
        await Users.CreateUserAsync(request, cancellationToken: Cancel);

        var wrongPassword = await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = "not the password" }, cancellationToken: Cancel));
        var wrongPasswordByEmail = await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Email, Password = "not the password" }, cancellationToken: Cancel));
        var unknownUser = await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = "nobody" + UserApiTests.Suffix(), Password = request.Password }, cancellationToken: Cancel));
        var unknownEmail = await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = $"nobody.{UserApiTests.Suffix()}@example.com", Password = request.Password }, cancellationToken: Cancel));
        var nearMiss = await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password.ToUpperInvariant() }, cancellationToken: Cancel));

        foreach (var error in new[] { wrongPasswordByEmail, unknownUser, unknownEmail, nearMiss })
        {
            Assert.Equal(wrongPassword.Status.Detail, error.Status.Detail);
            Assert.Equal(Reason(wrongPassword), Reason(error));
        }
        Assert.DoesNotContain(request.Username, wrongPassword.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task VerifyCredentials_of_a_suspended_user_is_FailedPrecondition_with_the_right_password_and_Unauthenticated_with_a_wrong_one()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        await Users.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId, Reason = "abuse" }, cancellationToken: Cancel);

        var rightPassword = await FailsAsync(StatusCode.FailedPrecondition, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel));
        // Only the holder of the password learns that the account is suspended.
        await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = "not the password" }, cancellationToken: Cancel));
        Assert.Equal("ACCOUNT_SUSPENDED", Reason(rightPassword));
        Assert.Null((await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel)).LastLoginTime);

        await Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        await Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel);
    }

    [Fact]
    public async Task A_soft_deleted_user_cannot_log_in_change_its_password_or_be_found()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId }, cancellationToken: Cancel);

        var login = await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel));
        var unknown = await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = "nobody" + UserApiTests.Suffix(), Password = request.Password }, cancellationToken: Cancel));
        Assert.Equal(unknown.Status.Detail, login.Status.Detail);
        await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Email, Password = request.Password }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = created.UserId, CurrentPassword = request.Password, NewPassword = "a new passphrase here" }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.AssignRoleAsync(new AssignRoleRequest { UserId = created.UserId, Role = "admin" }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = created.UserId, Category = "notifications" }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task A_hard_delete_erases_the_user_frees_its_names_and_redacts_its_earlier_event_payloads()
    {
        var request = UserPlatform.NewUser();
        request.Profile = new Profile { DisplayName = "Erase Me " + UserApiTests.Suffix() };
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        var id = created.UserId;
        await Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = id,
            ExpectedVersion = 1,
            User = new V1.User { Username = request.Username + "x" },
            UpdateMask = new FieldMask { Paths = { "username" } },
        }, cancellationToken: Cancel);
        await Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "support" }, cancellationToken: Cancel);
        await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "privacy", Values = { ["show_email"] = "true" } }, cancellationToken: Cancel);
        await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel);
        var rowId = await platform.ScalarAsync<long>("SELECT u.id FROM service_user u JOIN master m ON m.id = u.master_id WHERE m.uuid = @id", ("id", Guid.Parse(id)));
        var earlier = await EventuallyAsync(() => platform.OutboxRowsAsync(id), rows => rows.Count == 4 && rows.All(r => r.Published), what: "the 4 events published");

        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = id, HardDelete = true }, cancellationToken: Cancel);

        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Username = request.Username + "x" }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Email, Password = request.Password }, cancellationToken: Cancel));
        Assert.Null(await platform.CachedProfileAsync(id));
        // No row of the database still holds the user's identifying data.
        foreach (var (table, column) in new[] { ("master", "m"), ("service_user", "u"), ("service_user_role", "r"), ("service_user_preference", "p"), ("service_event", "e") })
        {
            var mentions = await platform.ScalarAsync<long>(
                $"SELECT count(*) FROM {table} {column} WHERE {column}::text ILIKE '%' || @name || '%' OR {column}::text ILIKE '%' || @email || '%' OR {column}::text ILIKE '%' || @display || '%'",
                ("name", request.Username), ("email", request.Email), ("display", request.Profile.DisplayName));
            Assert.True(mentions == 0, $"{table} still mentions the erased user ({mentions} rows)");
        }
        Assert.Equal(0L, await platform.ScalarAsync<long>("SELECT (SELECT count(*) FROM service_user_role WHERE user_id = @row) + (SELECT count(*) FROM service_user_preference WHERE user_id = @row)", ("row", rowId)));
        // The earlier events stay in the log, redacted; only the deletion still names the user ID.
        foreach (var row in earlier)
        {
            var payload = await platform.ScalarAsync<string>("SELECT payload::text FROM service_event WHERE id = @id", ("id", row.Id));
            Assert.DoesNotContain(id, payload, StringComparison.Ordinal);
            Assert.Contains("redacted", payload, StringComparison.Ordinal);
        }
        var after = await platform.OutboxRowsAsync(id);
        Assert.Equal(TopicName.Of(UserTopic.UserDeleted), Assert.Single(after).Topic);

        var reused = request.Clone();
        reused.Username = request.Username + "X";
        var again = await Users.CreateUserAsync(reused, cancellationToken: Cancel);
        Assert.NotEqual(id, again.UserId);
    }
}
