using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>The happy path of every RPC of the user API, called through the sidecar as another service would.</summary>
public sealed class UserApiTests(SharedUserPlatform platform)
{
    private UserService.UserServiceClient Users => platform.Users;

    [Fact]
    public async Task CreateUser_stores_the_whole_profile_and_GetUser_reads_back_exactly_what_CreateUser_returned()
    {
        var request = UserPlatform.NewUser();
        request.Profile = FullProfile();

        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        var read = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);

        Assert.True(Guid.TryParseExact(created.UserId, "D", out _), created.UserId);
        Assert.Equal(request.Username, created.Username);
        Assert.Equal(request.Email, created.Email);
        Assert.Equal(UserStatus.Active, created.Status);
        Assert.Equal(request.Profile, created.Profile);
        Assert.Equal(["user"], created.Roles);
        Assert.Equal(1, created.Audit.Version);
        Assert.Equal(created.Audit.CreateTime, created.Audit.UpdateTime);
        Assert.Null(created.LastLoginTime);
        Assert.Equal(created, read);
    }

    [Fact]
    public async Task GetUser_finds_a_user_by_id_by_username_and_by_email_ignoring_case_and_Unicode_compatibility_forms()
    {
        var request = UserPlatform.NewUser("Mira" + Suffix());
        request.Email = $"Mira.{Suffix()}@Example.com";
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        string[] usernames = [request.Username, request.Username.ToUpperInvariant(), request.Username.ToLowerInvariant(), FullWidth(request.Username), " " + request.Username + " "];
        string[] emails = [request.Email, request.Email.ToUpperInvariant(), request.Email.ToLowerInvariant(), FullWidth(request.Email)];
        foreach (var username in usernames)
        {
            var found = await Users.GetUserAsync(new GetUserRequest { Username = username }, cancellationToken: Cancel);
            Assert.Equal(created.UserId, found.UserId);
        }
        foreach (var email in emails)
        {
            var found = await Users.GetUserAsync(new GetUserRequest { Email = email }, cancellationToken: Cancel);
            Assert.Equal(created.UserId, found.UserId);
        }
        var byId = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        Assert.Equal(created.UserId, byId.UserId);
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Username = "nobody" + Suffix() }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Email = $"nobody.{Suffix()}@example.com" }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task CreateUser_stores_the_NFKC_form_of_a_username_typed_in_full_width()
    {
        var ascii = "wide" + Suffix();
        var request = UserPlatform.NewUser(FullWidth(ascii));

        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        Assert.Equal(ascii, created.Username);
        Assert.Equal(created.UserId, (await Users.GetUserAsync(new GetUserRequest { Username = ascii }, cancellationToken: Cancel)).UserId);
    }

    [Fact]
    public async Task UpdateUser_with_profile_field_paths_changes_only_the_named_fields()
    {
        var request = UserPlatform.NewUser();
        request.Profile = FullProfile();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        var changes = new V1.User
        {
            Username = "ignored" + Suffix(),
            Email = $"ignored.{Suffix()}@example.com",
            Profile = new Profile
            {
                DisplayName = "Mira Renamed",
                Bio = "not in the mask",
                TimeZone = "Asia/Tokyo",
                CustomFields = Struct.Parser.ParseJson("""{"plan": "team", "seats": 5, "tags": ["a", "b"], "nested": {"ok": true}}"""),
            },
        };

        var updated = await Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = created.UserId,
            ExpectedVersion = 1,
            User = changes,
            UpdateMask = new FieldMask { Paths = { "profile.display_name", "profile.time_zone", "profile.custom_fields" } },
        }, cancellationToken: Cancel);

        var expected = created.Profile.Clone();
        expected.DisplayName = "Mira Renamed";
        expected.TimeZone = "Asia/Tokyo";
        expected.CustomFields = changes.Profile.CustomFields;
        Assert.Equal(expected, updated.Profile);
        Assert.Equal(created.Username, updated.Username);
        Assert.Equal(created.Email, updated.Email);
        Assert.Equal(2, updated.Audit.Version);
        Assert.Equal(created.Audit.CreateTime, updated.Audit.CreateTime);
        Assert.True(updated.Audit.UpdateTime.ToDateTimeOffset() >= created.Audit.UpdateTime.ToDateTimeOffset());
        Assert.Equal(updated, await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task UpdateUser_with_the_path_profile_replaces_the_whole_profile_and_clears_fields_left_empty()
    {
        var request = UserPlatform.NewUser();
        request.Profile = FullProfile();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        var updated = await Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = created.UserId,
            ExpectedVersion = 1,
            User = new V1.User { Profile = new Profile { DisplayName = "Only Name" } },
            UpdateMask = new FieldMask { Paths = { "profile" } },
        }, cancellationToken: Cancel);

        Assert.Equal(new Profile { DisplayName = "Only Name", CustomFields = new Struct() }, updated.Profile);
        Assert.Equal(updated, await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task UpdateUser_changes_username_and_email_so_the_user_is_found_by_the_new_ones_only()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var username = "renamed" + Suffix();
        var email = $"renamed.{Suffix()}@example.com";

        var updated = await Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = created.UserId,
            ExpectedVersion = 1,
            User = new V1.User { Username = username, Email = email },
            UpdateMask = new FieldMask { Paths = { "username", "email" } },
        }, cancellationToken: Cancel);

        Assert.Equal(username, updated.Username);
        Assert.Equal(email, updated.Email);
        Assert.Equal(created.UserId, (await Users.GetUserAsync(new GetUserRequest { Username = username }, cancellationToken: Cancel)).UserId);
        Assert.Equal(created.UserId, (await Users.GetUserAsync(new GetUserRequest { Email = email }, cancellationToken: Cancel)).UserId);
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Username = created.Username }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Email = created.Email }, cancellationToken: Cancel));
        // The old name is free again.
        await Users.CreateUserAsync(UserPlatform.NewUser(created.Username), cancellationToken: Cancel);
    }

    [Fact]
    public async Task SuspendUser_and_ReactivateUser_switch_the_status_and_repeating_either_changes_nothing()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);

        var suspended = await Users.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId, Reason = "chargeback", ExpectedVersion = 1 }, cancellationToken: Cancel);
        var suspendedAgain = await Users.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId, Reason = "again" }, cancellationToken: Cancel);
        var listedSuspended = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        var reactivated = await Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = created.UserId, ExpectedVersion = 2 }, cancellationToken: Cancel);
        var reactivatedAgain = await Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = created.UserId }, cancellationToken: Cancel);

        Assert.Equal((UserStatus.Suspended, 2L), (suspended.Status, suspended.Audit.Version));
        Assert.Equal((UserStatus.Suspended, 2L), (suspendedAgain.Status, suspendedAgain.Audit.Version));
        Assert.Equal(UserStatus.Suspended, listedSuspended.Status);
        Assert.Equal((UserStatus.Active, 3L), (reactivated.Status, reactivated.Audit.Version));
        Assert.Equal((UserStatus.Active, 3L), (reactivatedAgain.Status, reactivatedAgain.Audit.Version));
    }

    [Fact]
    public async Task DeleteUser_soft_hides_the_user_from_every_read_and_a_later_hard_delete_still_erases_it()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId }, cancellationToken: Cancel);

        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Username = request.Username }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { Email = request.Email }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = created.UserId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = created.UserId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.NotFound, () => Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
        var search = await Users.SearchUsersAsync(new SearchUsersRequest { Prefix = request.Username }, cancellationToken: Cancel);
        Assert.Empty(search.Users);
        // A soft-deleted account keeps its name and address, so nobody can take them over.
        await FailsAsync(StatusCode.AlreadyExists, () => Users.CreateUserAsync(UserPlatform.NewUser(request.Username), cancellationToken: Cancel));

        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId, HardDelete = true }, cancellationToken: Cancel);
        await FailsAsync(StatusCode.NotFound, () => Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId, HardDelete = true }, cancellationToken: Cancel));
        await Users.CreateUserAsync(UserPlatform.NewUser(request.Username), cancellationToken: Cancel);
    }

    [Fact]
    public async Task DeleteUser_hard_erases_the_user_so_its_username_and_email_can_be_registered_again()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = created.UserId, Category = "notifications", Values = { ["email"] = "true" } }, cancellationToken: Cancel);

        await Users.DeleteUserAsync(new DeleteUserRequest { UserId = created.UserId, HardDelete = true }, cancellationToken: Cancel);

        await FailsAsync(StatusCode.NotFound, () => Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
        Assert.Equal(0L, await platform.ScalarAsync<long>("SELECT count(*) FROM master WHERE uuid = @id", ("id", Guid.Parse(created.UserId))));
        var again = request.Clone();
        again.Email = request.Email.ToUpperInvariant();
        var recreated = await Users.CreateUserAsync(again, cancellationToken: Cancel);
        Assert.NotEqual(created.UserId, recreated.UserId);
    }

    [Fact]
    public async Task SearchUsers_finds_usernames_and_display_names_starting_with_the_prefix_ignoring_case_in_username_order()
    {
        var prefix = "srch" + Suffix();
        var b = NewUser(prefix + "b", "Bee");
        var a = NewUser(prefix + "a", "Ay");
        // Sorts after the prefix, so the limited search below must pick a user by username order.
        var byDisplayName = NewUser("yother" + Suffix(), prefix.ToUpperInvariant() + " Display");
        var unrelated = NewUser("zz" + Suffix(), "Zed");
        foreach (var request in new[] { b, a, byDisplayName, unrelated })
        {
            await Users.CreateUserAsync(request, cancellationToken: Cancel);
        }

        var found = await Users.SearchUsersAsync(new SearchUsersRequest { Prefix = prefix.ToUpperInvariant() }, cancellationToken: Cancel);
        var limited = await Users.SearchUsersAsync(new SearchUsersRequest { Prefix = prefix, Limit = 1 }, cancellationToken: Cancel);
        var literal = await Users.SearchUsersAsync(new SearchUsersRequest { Prefix = prefix[..4] + "%" }, cancellationToken: Cancel);

        Assert.Equal([a.Username, b.Username], found.Users.Select(u => u.Username).Where(n => n.StartsWith(prefix, StringComparison.Ordinal)));
        Assert.Contains(found.Users, u => u.Username == byDisplayName.Username);
        Assert.DoesNotContain(found.Users, u => u.Username == unrelated.Username);
        Assert.Equal(3, found.Users.Count);
        Assert.Equal([a.Username], limited.Users.Select(u => u.Username));
        Assert.Empty(literal.Users);
    }

    [Fact]
    public async Task VerifyCredentials_accepts_the_username_or_the_email_in_any_case_and_records_the_login()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        var byName = await Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username.ToUpperInvariant(), Password = request.Password }, cancellationToken: Cancel);
        var byEmail = await Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Email.ToUpperInvariant(), Password = request.Password }, cancellationToken: Cancel);
        var read = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);

        Assert.Equal(created.UserId, byName.User.UserId);
        Assert.Equal(created.UserId, byEmail.User.UserId);
        Assert.Equal(["user"], byName.Roles);
        Assert.NotNull(byEmail.User.LastLoginTime);
        Assert.Equal(byEmail.User.LastLoginTime, read.LastLoginTime);
        // A login is not a change of the user: the version stays.
        Assert.Equal(1, read.Audit.Version);
    }

    [Fact]
    public async Task ChangePassword_replaces_the_password_so_only_the_new_one_verifies()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);
        const string newPassword = "a much better passphrase";

        await Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = created.UserId, CurrentPassword = request.Password, NewPassword = newPassword }, cancellationToken: Cancel);

        var verified = await Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = newPassword }, cancellationToken: Cancel);
        Assert.Equal(created.UserId, verified.User.UserId);
        Assert.Equal(2, verified.User.Audit.Version);
        await FailsAsync(StatusCode.Unauthenticated, () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.Unauthenticated, () => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = created.UserId, CurrentPassword = request.Password, NewPassword = "yet another passphrase" }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task ListRoleCatalog_lists_admin_support_and_user_with_descriptions()
    {
        var catalog = await Users.ListRoleCatalogAsync(new Empty(), cancellationToken: Cancel);

        Assert.Equal(["admin", "support", "user"], catalog.Roles.Select(r => r.Name));
        Assert.All(catalog.Roles, r => Assert.False(string.IsNullOrWhiteSpace(r.Description)));
    }

    [Fact]
    public async Task AssignRole_RemoveRole_and_ListUserRoles_keep_a_sorted_set_of_roles_that_GetUser_shows_too()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var id = created.UserId;

        var assigned = await Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "support" }, cancellationToken: Cancel);
        var assignedAgain = await Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "support" }, cancellationToken: Cancel);
        var withAdmin = await Users.AssignRoleAsync(new AssignRoleRequest { UserId = id, Role = "admin" }, cancellationToken: Cancel);
        var removed = await Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = id, Role = "user" }, cancellationToken: Cancel);
        var removedAgain = await Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = id, Role = "user" }, cancellationToken: Cancel);
        var listed = await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = id }, cancellationToken: Cancel);
        var read = await Users.GetUserAsync(new GetUserRequest { UserId = id }, cancellationToken: Cancel);

        Assert.Equal(["support", "user"], assigned.Roles);
        Assert.Equal(["support", "user"], assignedAgain.Roles);
        Assert.Equal(["admin", "support", "user"], withAdmin.Roles);
        Assert.Equal(["admin", "support"], removed.Roles);
        Assert.Equal(["admin", "support"], removedAgain.Roles);
        Assert.Equal(new UserRoles { UserId = id, Roles = { "admin", "support" } }, listed);
        Assert.Equal(["admin", "support"], read.Roles);
        // Two assignments and one removal changed something; the repeats did not.
        Assert.Equal(4, read.Audit.Version);
    }

    [Fact]
    public async Task SetPreferences_replaces_one_category_and_GetPreferences_reads_one_or_every_category()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var id = created.UserId;

        var empty = await Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = id }, cancellationToken: Cancel);
        await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "notifications", Values = { ["email"] = "true", ["sms"] = "false" } }, cancellationToken: Cancel);
        var afterQuietHours = await Users.SetPreferencesAsync(new SetPreferencesRequest
        {
            UserId = id,
            Category = "quiet_hours",
            Values = { ["start"] = "22:30", ["end"] = "07:00", ["time_zone"] = "Europe/Berlin" },
        }, cancellationToken: Cancel);
        var replaced = await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "notifications", Values = { ["push"] = "true" } }, cancellationToken: Cancel);
        var onlyQuietHours = await Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = id, Category = "quiet_hours" }, cancellationToken: Cancel);
        await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "privacy", Values = { ["profile_visibility"] = "users", ["show_email"] = "false" } }, cancellationToken: Cancel);
        await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "locale", Values = { ["language"] = "en-GB", ["region"] = "GB" } }, cancellationToken: Cancel);
        var cleared = await Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = id, Category = "quiet_hours" }, cancellationToken: Cancel);
        var all = await Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = id }, cancellationToken: Cancel);

        Assert.Equal(new Preferences { UserId = id }, empty);
        Assert.Equal(["notifications", "quiet_hours"], afterQuietHours.Categories.Keys.Order());
        Assert.Equal(new Dictionary<string, string> { ["push"] = "true" }, replaced.Categories["notifications"].Values);
        Assert.Equal(["quiet_hours"], onlyQuietHours.Categories.Keys);
        Assert.Equal("22:30", onlyQuietHours.Categories["quiet_hours"].Values["start"]);
        Assert.DoesNotContain("quiet_hours", cleared.Categories.Keys);
        Assert.Equal(cleared, all);
        Assert.Equal(["locale", "notifications", "privacy"], all.Categories.Keys.Order());
        Assert.Equal("en-GB", all.Categories["locale"].Values["language"]);
        Assert.Equal("users", all.Categories["privacy"].Values["profile_visibility"]);
    }

    internal static Profile FullProfile() => new()
    {
        DisplayName = "Mira Example",
        AvatarUrl = "https://cdn.example.com/avatars/mira.png",
        Bio = "Line one\nline two",
        Locale = "en-GB",
        TimeZone = "Europe/Berlin",
        CustomFields = Struct.Parser.ParseJson("""{"plan": "pro", "score": 3.5, "beta": true, "nothing": null}"""),
    };

    internal static string Suffix() => Guid.NewGuid().ToString("N")[..8];

    /// <summary>ASCII letters, digits and punctuation as their full-width forms (U+FF01..U+FF5E), which NFKC maps back.</summary>
    internal static string FullWidth(string ascii) =>
        string.Concat(ascii.Select(c => c is > ' ' and <= '~' ? (char)(c + 0xFEE0) : c));

    private static CreateUserRequest NewUser(string username, string displayName)
    {
        var request = UserPlatform.NewUser(username);
        request.Profile = new Profile { DisplayName = displayName };
        return request;
    }
}
