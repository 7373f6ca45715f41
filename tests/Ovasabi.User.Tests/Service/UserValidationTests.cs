using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.Common.V1;
using Ovasabi.User.V1;
using static Ovasabi.Testing.Rpc;

namespace Ovasabi.User.Tests.Service;

/// <summary>
/// Every invalid input answers InvalidArgument with a BadRequest detail naming the offending field (as the request
/// spells it), and a taken username or email answers AlreadyExists — through the sidecar, which must pass the details on.
/// </summary>
public sealed class UserValidationTests(SharedUserPlatform platform)
{
    private UserService.UserServiceClient Users => platform.Users;

    public static TheoryData<string, string, string> BadNewUsers => new()
    {
        // case, field, JSON of the CreateUserRequest fields that differ from a valid request
        { "username too short", "username", """{"username": "ab"}""" },
        { "username too long", "username", """{"username": "a23456789012345678901234567890123"}""" },
        { "username empty", "username", """{"username": ""}""" },
        { "username with a space", "username", """{"username": "mira example"}""" },
        { "username starting with a separator", "username", """{"username": "_mira"}""" },
        { "username with two separators in a row", "username", """{"username": "mira..x"}""" },
        { "username with a symbol", "username", """{"username": "mira$x"}""" },
        { "reserved username", "username", """{"username": "admin"}""" },
        { "reserved username in other case", "username", """{"username": "Support"}""" },
        { "reserved username in full width", "username", """{"username": "ＲＯＯＴ"}""" },
        { "email without @", "email", """{"email": "mira.example.com"}""" },
        { "email with two @", "email", """{"email": "mira@x@example.com"}""" },
        { "email without a dotted domain", "email", """{"email": "mira@localhost"}""" },
        { "email with a space", "email", """{"email": "mira x@example.com"}""" },
        { "email with a display name", "email", """{"email": "Mira <mira@example.com>"}""" },
        { "email empty", "email", """{"email": ""}""" },
        { "password too short", "password", """{"password": "short"}""" },
        { "password too long", "password", "{\"password\": \"" + new string('p', 129) + "\"}" },
        { "password equal to the username", "password", """{"username": "MiraExample1", "password": "miraexample1"}""" },
        { "password equal to the email address", "password", """{"email": "mira.example@example.com", "password": "MIRA.EXAMPLE@EXAMPLE.COM"}""" },
        { "avatar URL not absolute", "profile.avatar_url", """{"profile": {"avatarUrl": "/avatars/mira.png"}}""" },
        { "avatar URL with a javascript scheme", "profile.avatar_url", """{"profile": {"avatarUrl": "javascript:alert(1)"}}""" },
        { "avatar URL with an ftp scheme", "profile.avatar_url", """{"profile": {"avatarUrl": "ftp://example.com/a.png"}}""" },
        { "avatar URL with a space", "profile.avatar_url", """{"profile": {"avatarUrl": "https://example.com/a b.png"}}""" },
        { "locale that is no language tag", "profile.locale", """{"profile": {"locale": "english!"}}""" },
        { "locale with an underscore", "profile.locale", """{"profile": {"locale": "en_GB"}}""" },
        { "unknown time zone", "profile.time_zone", """{"profile": {"timeZone": "Mars/Olympus_Mons"}}""" },
        { "time zone in the wrong case", "profile.time_zone", """{"profile": {"timeZone": "europe/berlin"}}""" },
        { "Windows time zone id", "profile.time_zone", """{"profile": {"timeZone": "W. Europe Standard Time"}}""" },
        { "display name too long", "profile.display_name", "{\"profile\": {\"displayName\": \"" + new string('d', 65) + "\"}}" },
        { "display name with a bidi override", "profile.display_name", """{"profile": {"displayName": "abc\u202Edef"}}""" },
        { "bio with a NUL", "profile.bio", """{"profile": {"bio": "a\u0000b"}}""" },
        { "custom fields over 16 KiB", "profile.custom_fields", "{\"profile\": {\"customFields\": {\"big\": \"" + new string('x', 17 * 1024) + "\"}}}" },
        { "custom fields with 51 keys", "profile.custom_fields", "{\"profile\": {\"customFields\": {" + string.Join(", ", Enumerable.Range(0, 51).Select(i => $"\"k{i}\": {i}")) + "}}}" },
        { "custom fields nested 6 deep", "profile.custom_fields", """{"profile": {"customFields": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}}""" },
    };

    [Theory]
    [MemberData(nameof(BadNewUsers))]
    public async Task CreateUser_with_an_invalid_field_is_InvalidArgument_naming_the_field(string @case, string field, string json)
    {
        var request = UserPlatform.NewUser();
        var changes = CreateUserRequest.Parser.ParseJson(json);
        // Field by field: merging would skip the empty strings.
        var named = System.Text.Json.Nodes.JsonNode.Parse(json)!.AsObject();
        request.Username = named.ContainsKey("username") ? changes.Username : request.Username;
        request.Email = named.ContainsKey("email") ? changes.Email : request.Email;
        request.Password = named.ContainsKey("password") ? changes.Password : request.Password;
        request.Profile = changes.Profile;

        var error = await InvalidAsync(field, () => Users.CreateUserAsync(request, cancellationToken: Cancel));

        Assert.True(Violations(error).Count == 1, $"{@case}: {error.Status.Detail}");
        Assert.Equal("INVALID_ARGUMENT", Reason(error));
    }

    [Fact]
    public async Task CreateUser_with_several_invalid_fields_names_each_of_them()
    {
        var error = await FailsAsync(StatusCode.InvalidArgument, () => Users.CreateUserAsync(new CreateUserRequest
        {
            Username = "x",
            Email = "nope",
            Password = "short",
            Profile = new Profile { Locale = "??", TimeZone = "Nowhere/City" },
        }, cancellationToken: Cancel));

        Assert.Equal(["email", "password", "profile.locale", "profile.time_zone", "username"], Violations(error).Select(v => v.Field).Order(StringComparer.Ordinal));
        Assert.All(Violations(error), v => Assert.False(string.IsNullOrWhiteSpace(v.Description)));
    }

    public static TheoryData<string, string, string> BadUpdates => new()
    {
        // case, field, JSON of the UpdateUserRequest fields that differ from a valid request (display name change at version 1)
        { "user_id not a UUID", "user_id", """{"userId": "12345"}""" },
        { "user_id empty", "user_id", """{"userId": ""}""" },
        { "user_id in braces", "user_id", """{"userId": "{00000000-0000-0000-0000-000000000001}"}""" },
        { "missing expected_version", "expected_version", """{"expectedVersion": "0"}""" },
        { "negative expected_version", "expected_version", """{"expectedVersion": "-1"}""" },
        { "unknown update_mask path", "update_mask.paths[1]", """{"updateMask": "profile.displayName,password"}""" },
        { "update_mask path of a read-only field", "update_mask.paths[0]", """{"updateMask": "status"}""" },
        { "update_mask path of an unknown profile field", "update_mask.paths[0]", """{"updateMask": "profile.shoeSize"}""" },
        { "empty update_mask", "update_mask", """{"updateMask": ""}""" },
        { "bad username", "user.username", """{"updateMask": "username", "user": {"username": "no spaces allowed"}}""" },
        { "reserved username", "user.username", """{"updateMask": "username", "user": {"username": "Administrator"}}""" },
        { "bad email", "user.email", """{"updateMask": "email", "user": {"email": "not-an-email"}}""" },
        { "bad avatar URL", "user.profile.avatar_url", """{"updateMask": "profile.avatarUrl", "user": {"profile": {"avatarUrl": "file:///etc/passwd"}}}""" },
        { "bad locale", "user.profile.locale", """{"updateMask": "profile.locale", "user": {"profile": {"locale": "en-"}}}""" },
        { "bad time zone", "user.profile.time_zone", """{"updateMask": "profile", "user": {"profile": {"timeZone": "Europe/Atlantis"}}}""" },
        { "oversized custom fields", "user.profile.custom_fields", "{\"updateMask\": \"profile.customFields\", \"user\": {\"profile\": {\"customFields\": {\"big\": \"" + new string('x', 17 * 1024) + "\"}}}}" },
    };

    [Theory]
    [MemberData(nameof(BadUpdates))]
    public async Task UpdateUser_with_an_invalid_field_is_InvalidArgument_naming_the_field_and_changes_nothing(string @case, string field, string json)
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var request = new UpdateUserRequest
        {
            UserId = created.UserId,
            ExpectedVersion = 1,
            User = new V1.User { Profile = new Profile { DisplayName = "Changed" } },
            UpdateMask = new FieldMask { Paths = { "profile.display_name" } },
        };
        var changes = UpdateUserRequest.Parser.ParseJson(json);
        request.MergeFrom(changes);
        if (json.Contains("updateMask", StringComparison.Ordinal))
        {
            request.UpdateMask = changes.UpdateMask;
        }
        if (json.Contains("expectedVersion", StringComparison.Ordinal))
        {
            request.ExpectedVersion = changes.ExpectedVersion;
        }
        if (json.Contains("userId", StringComparison.Ordinal))
        {
            request.UserId = changes.UserId;
        }

        await InvalidAsync(field, () => Users.UpdateUserAsync(request, cancellationToken: Cancel));

        var stored = await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel);
        Assert.True(stored.Equals(created), @case);
    }

    [Fact]
    public async Task Malformed_user_ids_are_InvalidArgument_naming_user_id_in_every_RPC_that_takes_one()
    {
        const string bad = "not-a-uuid";
        await InvalidAsync("user_id", () => Users.GetUserAsync(new GetUserRequest { UserId = bad }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.SuspendUserAsync(new SuspendUserRequest { UserId = bad }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.ReactivateUserAsync(new ReactivateUserRequest { UserId = bad }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.DeleteUserAsync(new DeleteUserRequest { UserId = bad, HardDelete = true }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = bad, CurrentPassword = "x", NewPassword = "long enough password" }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.AssignRoleAsync(new AssignRoleRequest { UserId = bad, Role = "admin" }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = bad, Role = "admin" }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = bad }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = bad }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = bad, Category = "notifications" }, cancellationToken: Cancel));
        await InvalidAsync("user_id", () => Users.UpdateUserAsync(new UpdateUserRequest { UserId = "", ExpectedVersion = 1, UpdateMask = new FieldMask { Paths = { "email" } } }, cancellationToken: Cancel));
        await InvalidAsync("key", () => Users.GetUserAsync(new GetUserRequest(), cancellationToken: Cancel));
    }

    [Fact]
    public async Task Unknown_roles_are_InvalidArgument_naming_role()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);

        await InvalidAsync("role", () => Users.AssignRoleAsync(new AssignRoleRequest { UserId = created.UserId, Role = "superuser" }, cancellationToken: Cancel));
        await InvalidAsync("role", () => Users.AssignRoleAsync(new AssignRoleRequest { UserId = created.UserId, Role = "Admin" }, cancellationToken: Cancel));
        await InvalidAsync("role", () => Users.AssignRoleAsync(new AssignRoleRequest { UserId = created.UserId, Role = "" }, cancellationToken: Cancel));
        await InvalidAsync("role", () => Users.RemoveRoleAsync(new RemoveRoleRequest { UserId = created.UserId, Role = "superuser" }, cancellationToken: Cancel));
        await InvalidAsync("role", () => Users.ListUsersAsync(new ListUsersRequest { Role = "superuser" }, cancellationToken: Cancel));
        Assert.Equal(["user"], (await Users.ListUserRolesAsync(new ListUserRolesRequest { UserId = created.UserId }, cancellationToken: Cancel)).Roles);
    }

    public static TheoryData<string, string, string> BadPreferences => new()
    {
        // category, field, JSON of the values
        { "colours", "category", """{"theme": "dark"}""" },
        { "", "category", "{}" },
        { "Notifications", "category", """{"email": "true"}""" },
        { "notifications", "values.email", """{"email": "yes"}""" },
        { "notifications", "values.fax", """{"fax": "true"}""" },
        { "quiet_hours", "values.start", """{"start": "25:00", "end": "07:00"}""" },
        { "quiet_hours", "values.end", """{"start": "22:00"}""" },
        { "quiet_hours", "values.end", """{"start": "22:00", "end": "22:00"}""" },
        { "quiet_hours", "values.time_zone", """{"start": "22:00", "end": "07:00", "time_zone": "Moon/Base"}""" },
        { "locale", "values.language", """{"language": "en_GB"}""" },
        { "locale", "values.language", """{"region": "GB"}""" },
        { "locale", "values.region", """{"language": "en", "region": "GBR"}""" },
        { "privacy", "values.profile_visibility", """{"profile_visibility": "friends"}""" },
    };

    [Theory]
    [MemberData(nameof(BadPreferences))]
    public async Task SetPreferences_with_a_bad_category_or_value_is_InvalidArgument_naming_it_and_stores_nothing(string category, string field, string valuesJson)
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var values = System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(valuesJson)!;

        await InvalidAsync(field, () => Users.SetPreferencesAsync(new SetPreferencesRequest { UserId = created.UserId, Category = category, Values = { values } }, cancellationToken: Cancel));

        Assert.Empty((await Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = created.UserId }, cancellationToken: Cancel)).Categories);
    }

    [Fact]
    public async Task GetPreferences_of_an_unknown_category_is_InvalidArgument_naming_category()
    {
        var created = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);

        await InvalidAsync("category", () => Users.GetPreferencesAsync(new GetPreferencesRequest { UserId = created.UserId, Category = "colours" }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task ListUsers_with_a_page_size_out_of_range_or_an_unknown_order_or_status_is_InvalidArgument_naming_it()
    {
        await InvalidAsync("page.page_size", () => Users.ListUsersAsync(new ListUsersRequest { Page = new PageRequest { PageSize = 101 } }, cancellationToken: Cancel));
        await InvalidAsync("page.page_size", () => Users.ListUsersAsync(new ListUsersRequest { Page = new PageRequest { PageSize = -1 } }, cancellationToken: Cancel));
        await InvalidAsync("order_by", () => Users.ListUsersAsync(new ListUsersRequest { OrderBy = "email" }, cancellationToken: Cancel));
        await InvalidAsync("order_by", () => Users.ListUsersAsync(new ListUsersRequest { OrderBy = "create_time asc" }, cancellationToken: Cancel));
        await InvalidAsync("order_by", () => Users.ListUsersAsync(new ListUsersRequest { OrderBy = "username; drop table master" }, cancellationToken: Cancel));
        await InvalidAsync("status", () => Users.ListUsersAsync(new ListUsersRequest { Status = (UserStatus)7 }, cancellationToken: Cancel));
        Assert.NotNull(await Users.ListUsersAsync(new ListUsersRequest { Page = new PageRequest { PageSize = 100 } }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task SearchUsers_SuspendUser_VerifyCredentials_and_ChangePassword_name_their_invalid_fields()
    {
        var request = UserPlatform.NewUser();
        var created = await Users.CreateUserAsync(request, cancellationToken: Cancel);

        await InvalidAsync("prefix", () => Users.SearchUsersAsync(new SearchUsersRequest { Prefix = "" }, cancellationToken: Cancel));
        await InvalidAsync("prefix", () => Users.SearchUsersAsync(new SearchUsersRequest { Prefix = new string('p', 65) }, cancellationToken: Cancel));
        await InvalidAsync("limit", () => Users.SearchUsersAsync(new SearchUsersRequest { Prefix = "abc", Limit = 51 }, cancellationToken: Cancel));
        await InvalidAsync("limit", () => Users.SearchUsersAsync(new SearchUsersRequest { Prefix = "abc", Limit = -1 }, cancellationToken: Cancel));
        await InvalidAsync("reason", () => Users.SuspendUserAsync(new SuspendUserRequest { UserId = created.UserId, Reason = new string('r', 501) }, cancellationToken: Cancel));
        await InvalidAsync("login", () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Password = request.Password }, cancellationToken: Cancel));
        await InvalidAsync("password", () => Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username }, cancellationToken: Cancel));
        await InvalidAsync("current_password", () => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = created.UserId, NewPassword = "long enough password" }, cancellationToken: Cancel));
        await InvalidAsync("new_password", () => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = created.UserId, CurrentPassword = request.Password, NewPassword = "short" }, cancellationToken: Cancel));
        await InvalidAsync("new_password", () => Users.ChangePasswordAsync(new ChangePasswordRequest { UserId = created.UserId, CurrentPassword = request.Password, NewPassword = request.Username.ToUpperInvariant() }, cancellationToken: Cancel));

        // None of it changed the user.
        Assert.Equal(created, await Users.GetUserAsync(new GetUserRequest { UserId = created.UserId }, cancellationToken: Cancel));
        await Users.VerifyCredentialsAsync(new VerifyCredentialsRequest { Login = request.Username, Password = request.Password }, cancellationToken: Cancel);
    }

    [Fact]
    public async Task CreateUser_with_a_username_taken_in_another_case_or_compatibility_form_is_AlreadyExists()
    {
        var taken = await Users.CreateUserAsync(UserPlatform.NewUser("Taken" + UserApiTests.Suffix()), cancellationToken: Cancel);

        string[] variants = [taken.Username, taken.Username.ToUpperInvariant(), taken.Username.ToLowerInvariant(), UserApiTests.FullWidth(taken.Username)];
        foreach (var variant in variants)
        {
            var error = await FailsAsync(StatusCode.AlreadyExists, () => Users.CreateUserAsync(UserPlatform.NewUser(variant), cancellationToken: Cancel));
            Assert.Equal("USERNAME_TAKEN", Reason(error));
        }
    }

    [Fact]
    public async Task CreateUser_with_an_email_taken_in_another_case_or_compatibility_form_is_AlreadyExists()
    {
        var request = UserPlatform.NewUser();
        request.Email = $"Taken.{UserApiTests.Suffix()}@Example.com";
        await Users.CreateUserAsync(request, cancellationToken: Cancel);

        string[] variants = [request.Email, request.Email.ToUpperInvariant(), request.Email.ToLowerInvariant(), UserApiTests.FullWidth(request.Email)];
        foreach (var variant in variants)
        {
            var again = UserPlatform.NewUser();
            again.Email = variant;
            var error = await FailsAsync(StatusCode.AlreadyExists, () => Users.CreateUserAsync(again, cancellationToken: Cancel));
            Assert.Equal("EMAIL_TAKEN", Reason(error));
        }
    }

    [Fact]
    public async Task UpdateUser_to_a_username_or_email_another_user_has_is_AlreadyExists_and_changes_nothing()
    {
        var other = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);
        var user = await Users.CreateUserAsync(UserPlatform.NewUser(), cancellationToken: Cancel);

        await FailsAsync(StatusCode.AlreadyExists, () => Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = user.UserId,
            ExpectedVersion = 1,
            User = new V1.User { Username = other.Username.ToUpperInvariant() },
            UpdateMask = new FieldMask { Paths = { "username" } },
        }, cancellationToken: Cancel));
        await FailsAsync(StatusCode.AlreadyExists, () => Users.UpdateUserAsync(new UpdateUserRequest
        {
            UserId = user.UserId,
            ExpectedVersion = 1,
            User = new V1.User { Email = other.Email.ToUpperInvariant() },
            UpdateMask = new FieldMask { Paths = { "email" } },
        }, cancellationToken: Cancel));

        Assert.Equal(user, await Users.GetUserAsync(new GetUserRequest { UserId = user.UserId }, cancellationToken: Cancel));
    }

    [Fact]
    public async Task Parallel_CreateUser_calls_for_one_username_create_exactly_one_user_and_the_rest_are_AlreadyExists()
    {
        var username = "race" + UserApiTests.Suffix();

        var calls = Enumerable.Range(0, 8).Select(async i =>
        {
            try
            {
                await Users.CreateUserAsync(UserPlatform.NewUser(i % 2 == 0 ? username : username.ToUpperInvariant()), cancellationToken: Cancel);
                return StatusCode.OK;
            }
            catch (RpcException e)
            {
                return e.StatusCode;
            }
        });
        var outcomes = await Task.WhenAll(calls);

        Assert.Equal(1, outcomes.Count(c => c == StatusCode.OK));
        Assert.All(outcomes.Where(c => c != StatusCode.OK), c => Assert.Equal(StatusCode.AlreadyExists, c));
    }
}
