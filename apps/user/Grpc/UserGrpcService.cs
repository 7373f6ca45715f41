using Microsoft.Extensions.Options;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.User.Data;
using Ovasabi.User.Domain;
using Ovasabi.User.V1;

namespace Ovasabi.User.Grpc;

/// <summary>
/// The user service's API: checks the shape of each request, maps it to the domain's inputs, and calls the stores
/// (<see cref="UserAccounts"/> writes, <see cref="UserQueries"/> reads).
/// </summary>
public sealed class UserGrpcService(
    UserAccounts accounts,
    UserQueries users,
    UserRateLimits rateLimits,
    IOptions<SecurityOptions> security)
    : UserService.UserServiceBase
{
    private const string Entity = UserAccounts.Entity;
    private static readonly HashSet<string> UpdatablePaths = ["username", "email", "profile", .. ProfileRules.Fields.Select(f => "profile." + f)];

    [Anonymous]
    public override async Task<V1.User> CreateUser(CreateUserRequest request, ServerCallContext context)
    {
        rateLimits.AdmitSignUp(ClientAddress.Of(context, security.Value));
        var account = new NewAccount(request.Username, request.Email, request.Password, UserMapping.Input(request.Profile));
        return (await accounts.CreateAsync(account, context.CancellationToken)).ToProto();
    }

    // The owner is known once the user is found, so a user may also look themselves up by username or email. Someone
    // looked up by username or email whom the caller may not read is reported missing, as one that does not exist, so
    // the call cannot tell registered names and addresses from others.
    [Permission("user.users.read", OwnerCheckedByHandler = true)]
    public override async Task<V1.User> GetUser(GetUserRequest request, ServerCallContext context)
    {
        var caller = context.GetCaller();
        var user = request.KeyCase switch
        {
            // Another app reads roles and status to decide what a user may do (auth's tokens, finance's movements): from
            // the database, never from the cache, whose entries anyone able to write to Redis could forge.
            GetUserRequest.KeyOneofCase.UserId => await users.ByIdAsync(RequireId(request.UserId), useCache: caller.Kind != CallerKind.App, context.CancellationToken)
                                                  ?? throw new NotFoundException(Entity, request.UserId),
            GetUserRequest.KeyOneofCase.Username => await users.ByUsernameAsync(request.Username, context.CancellationToken) ?? throw new NotFoundException(Entity, request.Username),
            GetUserRequest.KeyOneofCase.Email => await users.ByEmailAsync(request.Email, context.CancellationToken) ?? throw new NotFoundException(Entity, request.Email),
            _ => throw new InvalidArgumentException("key", "give user_id, username or email"),
        };
        if (request.KeyCase != GetUserRequest.KeyOneofCase.UserId && !caller.Allows("user.users.read", user.UserId))
        {
            throw new NotFoundException(Entity, request.KeyCase == GetUserRequest.KeyOneofCase.Email ? request.Email : request.Username);
        }
        context.EnsureAllowed("user.users.read", user.UserId);
        return user;
    }

    [Permission("user.users.update", Owner = "user_id")]
    public override async Task<V1.User> UpdateUser(UpdateUserRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        validator.Check("expected_version", request.ExpectedVersion > 0, "is required (the version last read)");
        var paths = request.UpdateMask?.Paths.ToList() ?? [];
        validator.Check("update_mask", paths.Count > 0, "name at least one field to change");
        for (var i = 0; i < paths.Count; i++)
        {
            validator.Check($"update_mask.paths[{i}]", UpdatablePaths.Contains(paths[i]), $"'{ErrorText.Quote(paths[i])}' cannot be updated (allowed: {string.Join(", ", UpdatablePaths)})");
        }
        validator.ThrowIfInvalid();

        var sent = request.User ?? new V1.User();
        var profileFields = paths.Contains("profile") ? ProfileRules.Fields : paths.Where(p => p.StartsWith("profile.", StringComparison.Ordinal)).Select(p => p["profile.".Length..]).ToList();
        var changes = new AccountChanges(sent.Username, sent.Email, UserMapping.Input(sent.Profile ?? new Profile())!, profileFields, paths.Contains("username"), paths.Contains("email"));
        if (changes.ChangesUsername)
        {
            validator.Problem("user.username", Usernames.Validate(changes.Username));
        }
        if (changes.ChangesEmail)
        {
            validator.Problem("user.email", Emails.Validate(changes.Email));
        }
        foreach (var field in profileFields)
        {
            validator.Problem($"user.profile.{field}", ProfileRules.ValidateField(changes.Profile, field));
        }
        validator.ThrowIfInvalid();
        return (await accounts.UpdateAsync(id, request.ExpectedVersion, changes, paths, context.CancellationToken)).ToProto();
    }

    [Permission("user.users.suspend")]
    public override async Task<V1.User> SuspendUser(SuspendUserRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        validator.MaxLength("reason", request.Reason, 500);
        validator.ThrowIfInvalid();
        return (await accounts.SuspendAsync(id, request.ExpectedVersion, request.Reason, context.GetCaller(), context.CancellationToken)).ToProto();
    }

    [Permission("user.users.reactivate")]
    public override async Task<V1.User> ReactivateUser(ReactivateUserRequest request, ServerCallContext context) =>
        (await accounts.ReactivateAsync(RequireId(request.UserId), request.ExpectedVersion, context.GetCaller(), context.CancellationToken)).ToProto();

    [Permission("user.users.delete", Owner = "user_id")]
    public override async Task<Empty> DeleteUser(DeleteUserRequest request, ServerCallContext context)
    {
        await accounts.DeleteAsync(RequireId(request.UserId), request.HardDelete, context.CancellationToken);
        return new Empty();
    }

    [Permission("user.users.list")]
    public override async Task<ListUsersResponse> ListUsers(ListUsersRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        validator.Check("status", request.Status is UserStatus.Unspecified or UserStatus.Active or UserStatus.Suspended, "is not a known status");
        var state = request.Status switch { UserStatus.Active => UserState.Active, UserStatus.Suspended => UserState.Suspended, _ => (UserState?)null };
        var filter = new UserFilter(state, request.Role, validator.Time("created_after", request.CreatedAfter), validator.Time("created_before", request.CreatedBefore), request.OrderBy,
            request.Page?.PageSize ?? 0, request.Page?.PageToken);
        var (page, next) = await users.ListAsync(filter, validator, context.CancellationToken);
        var response = new ListUsersResponse { Page = new Common.V1.PageResponse { NextPageToken = next } };
        response.Users.AddRange(page.Select(u => u.ToProto()));
        return response;
    }

    [Permission("user.users.list")]
    public override async Task<SearchUsersResponse> SearchUsers(SearchUsersRequest request, ServerCallContext context)
    {
        new Validator().Required("prefix", request.Prefix).MaxLength("prefix", request.Prefix, 64)
            .Check("limit", request.Limit is >= 0 and <= 50, "must be between 1 and 50 (0 for the default of 10)").ThrowIfInvalid();
        var found = await users.SearchAsync(request.Prefix, request.Limit == 0 ? 10 : request.Limit, context.CancellationToken);
        return new SearchUsersResponse { Users = { found.Select(u => u.ToProto()) } };
    }

    [Permission("user.credentials.verify")]
    public override async Task<VerifyCredentialsResponse> VerifyCredentials(VerifyCredentialsRequest request, ServerCallContext context)
    {
        new Validator().Required("login", request.Login).Required("password", request.Password).MaxLength("password", request.Password, 1024).ThrowIfInvalid();
        var user = (await accounts.VerifyCredentialsAsync(request.Login, request.Password, request.CheckOnly, context.CancellationToken)).ToProto();
        return new VerifyCredentialsResponse { User = user, Roles = { user.Roles } };
    }

    [Permission("user.credentials.change", Owner = "user_id")]
    public override async Task<Empty> ChangePassword(ChangePasswordRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        validator.Required("current_password", request.CurrentPassword).MaxLength("current_password", request.CurrentPassword, 1024);
        validator.ThrowIfInvalid();
        rateLimits.AdmitPasswordChange(id);
        // The session the change is made from stays; every other one of the user ends.
        var kept = context.GetCaller() is { Kind: CallerKind.User, SessionId: { } session } caller && caller.UserId == id.ToString() ? session : "";
        await accounts.ChangePasswordAsync(id, request.CurrentPassword, request.NewPassword, kept, context.CancellationToken);
        return new Empty();
    }

    [Authenticated]
    public override Task<ListRoleCatalogResponse> ListRoleCatalog(Empty request, ServerCallContext context) =>
        Task.FromResult(new ListRoleCatalogResponse { Roles = { Roles.Catalog.Select(r => new Role { Name = r.Name, Description = r.Description }) } });

    [Permission("user.roles.assign")]
    public override async Task<UserRoles> AssignRole(AssignRoleRequest request, ServerCallContext context)
    {
        var (id, role) = ValidateRole(request.UserId, request.Role);
        return RolesOf(await accounts.AssignRoleAsync(id, role, context.CancellationToken));
    }

    [Permission("user.roles.assign")]
    public override async Task<UserRoles> RemoveRole(RemoveRoleRequest request, ServerCallContext context)
    {
        var (id, role) = ValidateRole(request.UserId, request.Role);
        return RolesOf(await accounts.RemoveRoleAsync(id, role, context.CancellationToken));
    }

    [Permission("user.roles.read", Owner = "user_id")]
    public override async Task<UserRoles> ListUserRoles(ListUserRolesRequest request, ServerCallContext context) =>
        RolesOf(await users.FindAsync(RequireId(request.UserId), context.CancellationToken) ?? throw new NotFoundException(Entity, request.UserId));

    [Permission("user.preferences.read", Owner = "user_id")]
    public override async Task<Preferences> GetPreferences(GetPreferencesRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        // An unknown category would otherwise read as "no preferences set".
        validator.Check("category", request.Category == "" || PreferenceRules.IsKnownCategory(request.Category),
            $"must be empty (every category) or one of {string.Join(", ", PreferenceRules.Categories)}");
        validator.ThrowIfInvalid();
        var user = await users.FindAsync(id, context.CancellationToken) ?? throw new NotFoundException(Entity, request.UserId);
        return PreferencesOf(user, await users.PreferencesAsync(user, request.Category, context.CancellationToken));
    }

    [Permission("user.preferences.write", Owner = "user_id")]
    public override async Task<Preferences> SetPreferences(SetPreferencesRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        foreach (var problem in PreferenceRules.Validate(request.Category, request.Values))
        {
            validator.Add(problem.Field, problem.Message);
        }
        validator.ThrowIfInvalid();
        var user = await accounts.SetPreferencesAsync(id, request.Category, request.Values, context.CancellationToken);
        return PreferencesOf(user, await users.PreferencesAsync(user, "", context.CancellationToken));
    }

    private static Preferences PreferencesOf(UserRecord user, IReadOnlyDictionary<string, Dictionary<string, string>> categories)
    {
        var preferences = new Preferences { UserId = user.Master.Uuid.ToString() };
        foreach (var (category, values) in categories)
        {
            preferences.Categories[category] = new PreferenceCategory { Values = { values } };
        }
        return preferences;
    }

    private static (Guid Id, string Role) ValidateRole(string userId, string role)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", userId);
        validator.Check("role", Roles.IsKnown(role), $"must be one of {string.Join(", ", Roles.Catalog.Select(r => r.Name))}");
        validator.ThrowIfInvalid();
        return (id, role);
    }

    private static UserRoles RolesOf(UserRecord user) =>
        new() { UserId = user.Master.Uuid.ToString(), Roles = { user.Roles.Select(r => r.Role).Order(StringComparer.Ordinal) } };

    private static Guid RequireId(string userId)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", userId);
        validator.ThrowIfInvalid();
        return id;
    }
}
