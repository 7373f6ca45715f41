using Microsoft.Extensions.Options;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.User.Data;
using Ovasabi.User.Domain;
using Ovasabi.User.Events;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;

namespace Ovasabi.User.Grpc;

/// <summary>The user service's API; changes are written through <see cref="UserAccounts"/>.</summary>
public sealed class UserGrpcService(
    UserDbContext db,
    UserAccounts accounts,
    StateCache cache,
    PasswordHasher hasher,
    PasswordHashingGate hashing,
    SignInLockout lockout,
    UserRateLimits rateLimits,
    IOptions<SecurityOptions> security,
    TimeProvider time,
    UserPaging paging)
    : UserService.UserServiceBase
{
    private const string Entity = UserAccounts.Entity;
    private static readonly TimeSpan ProfileTtl = TimeSpan.FromMinutes(15);
    private static readonly HashSet<string> UpdatablePaths = ["username", "email", "profile", .. ProfileRules.Fields.Select(f => "profile." + f)];

    [Anonymous]
    public override async Task<V1.User> CreateUser(CreateUserRequest request, ServerCallContext context)
    {
        rateLimits.AdmitSignUp(ClientAddress.Of(context, security.Value));
        return (await accounts.CreateAsync(request, context.CancellationToken)).ToProto();
    }

    // The owner is known once the user is found, so a user may also look themselves up by username or email. Someone
    // looked up by username or email whom the caller may not read is reported missing, as one that does not exist, so
    // the call cannot tell registered names and addresses from others.
    [Permission("user.users.read", OwnerCheckedByHandler = true)]
    public override async Task<V1.User> GetUser(GetUserRequest request, ServerCallContext context)
    {
        var caller = context.GetCaller();
        // Another app reads roles and status to decide what a user may do (auth's tokens, finance's movements): from the
        // database, never from the cache, whose entries anyone able to write to Redis could forge.
        var user = await FindUserAsync(request, useCache: caller.Kind != CallerKind.App, context.CancellationToken);
        if (request.KeyCase != GetUserRequest.KeyOneofCase.UserId && !caller.Allows("user.users.read", user.UserId))
        {
            throw new NotFoundException(Entity, request.KeyCase == GetUserRequest.KeyOneofCase.Email ? request.Email : request.Username);
        }
        context.EnsureAllowed("user.users.read", user.UserId);
        return user;
    }

    private async Task<V1.User> FindUserAsync(GetUserRequest request, bool useCache, CancellationToken cancellationToken)
    {
        switch (request.KeyCase)
        {
            case GetUserRequest.KeyOneofCase.UserId:
                var id = RequireId(request.UserId);
                Func<CancellationToken, Task<V1.User?>> load = async ct => (await FindAsync(u => u.Master.Uuid == id, ct))?.ToProto();
                return (useCache ? await cache.GetOrLoadAsync(Entity, accounts.ProfileKey(id), ProfileTtl, load, cancellationToken) : await load(cancellationToken))
                       ?? throw new NotFoundException(Entity, request.UserId);
            case GetUserRequest.KeyOneofCase.Username:
                var usernameKey = Usernames.Canonical(request.Username);
                return (await FindAsync(u => u.UsernameKey == usernameKey, cancellationToken))?.ToProto()
                       ?? throw new NotFoundException(Entity, request.Username);
            case GetUserRequest.KeyOneofCase.Email:
                var emailKey = Emails.Canonical(request.Email);
                return (await FindAsync(u => u.EmailKey == emailKey, cancellationToken))?.ToProto()
                       ?? throw new NotFoundException(Entity, request.Email);
            default:
                throw new InvalidArgumentException("key", "give user_id, username or email");
        }
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

        var changes = request.User ?? new V1.User();
        var profileFields = paths.Contains("profile") ? ProfileRules.Fields : paths.Where(p => p.StartsWith("profile.", StringComparison.Ordinal)).Select(p => p["profile.".Length..]).ToList();
        if (paths.Contains("username"))
        {
            validator.Problem("user.username", Usernames.Validate(changes.Username));
        }
        if (paths.Contains("email"))
        {
            validator.Problem("user.email", Emails.Validate(changes.Email));
        }
        foreach (var field in profileFields)
        {
            validator.Problem($"user.profile.{field}", ProfileRules.ValidateField(UserMapping.Input(changes.Profile ?? new Profile())!, field));
        }
        validator.ThrowIfInvalid();

        var user = await accounts.LoadForChangeAsync(id, request.ExpectedVersion, context.CancellationToken);
        if (paths.Contains("username"))
        {
            user.Username = Usernames.Normalize(changes.Username);
            user.UsernameKey = Usernames.Canonical(changes.Username);
            user.Master.Name = user.Username;
        }
        if (paths.Contains("email"))
        {
            user.Email = Emails.Normalize(changes.Email);
            user.EmailKey = Emails.Canonical(changes.Email);
        }
        foreach (var field in profileFields)
        {
            user.ApplyProfileField(changes.Profile ?? new Profile(), field);
        }
        // Events name the user by its canonical ID (as the created event did), not as this call spelt it (e.g. in upper case).
        await accounts.CommitChangeAsync(user, UserTopics.Updated,
            version => new UserUpdated { UserId = id.ToString(), ChangedFields = { paths }, Version = version, OccurredAt = accounts.Now() }, context.CancellationToken);
        return user.ToProto();
    }

    [Permission("user.users.suspend")]
    public override async Task<V1.User> SuspendUser(SuspendUserRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        validator.MaxLength("reason", request.Reason, 500);
        validator.ThrowIfInvalid();
        var user = await accounts.LoadForChangeAsync(id, request.ExpectedVersion, context.CancellationToken);
        context.GetCaller().EnsureOutranks(user.Roles.Select(r => r.Role));
        if (user.State == UserState.Suspended)
        {
            // Suspending twice changes nothing, so a retried call is harmless.
            return user.ToProto();
        }
        user.State = UserState.Suspended;
        user.SuspensionReason = string.IsNullOrWhiteSpace(request.Reason) ? null : request.Reason;
        await accounts.CommitChangeAsync(user, UserTopics.Suspended,
            _ => new UserSuspended { UserId = id.ToString(), Reason = request.Reason, OccurredAt = accounts.Now() }, context.CancellationToken);
        return user.ToProto();
    }

    [Permission("user.users.reactivate")]
    public override async Task<V1.User> ReactivateUser(ReactivateUserRequest request, ServerCallContext context)
    {
        var id = RequireId(request.UserId);
        var user = await accounts.LoadForChangeAsync(id, request.ExpectedVersion, context.CancellationToken);
        context.GetCaller().EnsureOutranks(user.Roles.Select(r => r.Role));
        if (user.State == UserState.Active)
        {
            return user.ToProto();
        }
        user.State = UserState.Active;
        user.SuspensionReason = null;
        await accounts.CommitChangeAsync(user, UserTopics.Updated,
            version => new UserUpdated { UserId = id.ToString(), ChangedFields = { "status" }, Version = version, OccurredAt = accounts.Now() }, context.CancellationToken);
        return user.ToProto();
    }

    [Permission("user.users.delete", Owner = "user_id")]
    public override async Task<Empty> DeleteUser(DeleteUserRequest request, ServerCallContext context)
    {
        var id = RequireId(request.UserId);
        var user = await db.Users.Include(u => u.Master).Include(u => u.Roles)
                       .FirstOrDefaultAsync(u => u.Master.Uuid == id && (request.HardDelete || u.State != UserState.Deleted), context.CancellationToken)
                   ?? throw new NotFoundException(Entity, request.UserId);
        var deleted = new UserDeleted { UserId = id.ToString(), HardDelete = request.HardDelete, OccurredAt = accounts.Now() };
        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        await accounts.EnsureAnotherAdministratorAsync(user, context.CancellationToken);
        if (request.HardDelete)
        {
            // GDPR erasure: the rows go, and the event log keeps only that something happened to this user ID.
            // Events not published yet are withheld rather than redacted: the outbox would otherwise still announce the
            // erased data, or send payloads that are no valid event, under ids consumers may have seen with the real
            // content. (A row the dispatcher is publishing is locked; once it is stamped it is redacted below.)
            await db.ServiceEvents.Where(e => e.MasterId == user.MasterId && e.PublishedAt == null)
                .ExecuteDeleteAsync(context.CancellationToken);
            await db.ServiceEvents.Where(e => e.MasterId == user.MasterId)
                .ExecuteUpdateAsync(e => e.SetProperty(x => x.Payload, "{\"redacted\": true}"), context.CancellationToken);
            db.Masters.Remove(user.Master);
            db.AddEvent(UserTopics.Deleted, deleted);
            await accounts.SaveAsync(context.CancellationToken);
        }
        else
        {
            user.State = UserState.Deleted;
            user.DeletedAt = time.GetUtcNow();
            user.Master.IsActive = false;
            await accounts.CommitChangeAsync(user, UserTopics.Deleted, _ => deleted, context.CancellationToken);
        }
        await transaction.CommitAsync(context.CancellationToken);
        await accounts.InvalidateAsync(id, context.CancellationToken);
        return new Empty();
    }

    [Permission("user.users.list")]
    public override async Task<ListUsersResponse> ListUsers(ListUsersRequest request, ServerCallContext context)
    {
        var page = paging.Read(request, context.CancellationToken);
        var users = await page.Query(db.Users.Include(u => u.Master).Include(u => u.Roles).AsNoTracking().Where(u => u.State != UserState.Deleted))
            .ToListAsync(context.CancellationToken);
        var response = new ListUsersResponse { Page = new Common.V1.PageResponse { NextPageToken = page.NextToken(users) } };
        response.Users.AddRange(users.Take(page.Size).Select(u => u.ToProto()));
        return response;
    }

    [Permission("user.users.list")]
    public override async Task<SearchUsersResponse> SearchUsers(SearchUsersRequest request, ServerCallContext context)
    {
        var validator = new Validator().Required("prefix", request.Prefix).MaxLength("prefix", request.Prefix, 64)
            .Check("limit", request.Limit is >= 0 and <= 50, "must be between 1 and 50 (0 for the default of 10)");
        validator.ThrowIfInvalid();
        var prefix = Usernames.Canonical(request.Prefix);
        var pattern = EscapeLike(prefix) + "%";
        var users = await db.Users.Include(u => u.Master).Include(u => u.Roles).AsNoTracking()
            .Where(u => u.State != UserState.Deleted
                        && (EF.Functions.Like(u.UsernameKey, pattern) || (u.DisplayName != null && EF.Functions.ILike(u.DisplayName, pattern))))
            .OrderBy(u => u.UsernameKey)
            .Take(request.Limit == 0 ? 10 : request.Limit)
            .ToListAsync(context.CancellationToken);
        return new SearchUsersResponse { Users = { users.Select(u => u.ToProto()) } };
    }

    [Permission("user.credentials.verify")]
    public override async Task<VerifyCredentialsResponse> VerifyCredentials(VerifyCredentialsRequest request, ServerCallContext context)
    {
        new Validator().Required("login", request.Login).Required("password", request.Password).MaxLength("password", request.Password, 1024).ThrowIfInvalid();
        var login = request.Login.Contains('@', StringComparison.Ordinal) ? Emails.Canonical(request.Login) : Usernames.Canonical(request.Login);
        var user = await db.Users.Include(u => u.Master).Include(u => u.Roles)
            .FirstOrDefaultAsync(u => (u.EmailKey == login || u.UsernameKey == login) && u.State != UserState.Deleted, context.CancellationToken);
        if (user is null)
        {
            // Same work and the same answer as a wrong password, so callers cannot probe which accounts exist.
            await hashing.RunAsync(() => hasher.VerifyAgainstDummy(request.Password), context.CancellationToken);
            throw InvalidCredentials();
        }
        if (!await hashing.RunAsync(() => hasher.Verify(request.Password, user.PasswordHash), context.CancellationToken))
        {
            throw InvalidCredentials();
        }
        if (user.State == UserState.Suspended)
        {
            throw new FailedPreconditionException("the account is suspended", "ACCOUNT_SUSPENDED");
        }
        if (!request.CheckOnly)
        {
            user.LastLoginAt = time.GetUtcNow();
            if (hasher.NeedsRehash(user.PasswordHash))
            {
                user.PasswordHash = await hashing.RunAsync(() => hasher.Hash(request.Password), context.CancellationToken);
            }
            await accounts.SaveAsync(context.CancellationToken);
            await accounts.InvalidateAsync(user.Master.Uuid, context.CancellationToken);
        }
        var proto = user.ToProto();
        return new VerifyCredentialsResponse { User = proto, Roles = { proto.Roles } };
    }

    /// <remarks>
    /// A wrong current password counts toward the account's sign-in lockout, and a locked account's password cannot be
    /// changed (the answer is the same as for a wrong one), so a stolen access token cannot be used to guess the password.
    /// Every other session of the user ends (auth handles <c>user.password.changed</c>).
    /// </remarks>
    [Permission("user.credentials.change", Owner = "user_id")]
    public override async Task<Empty> ChangePassword(ChangePasswordRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        validator.Required("current_password", request.CurrentPassword).MaxLength("current_password", request.CurrentPassword, 1024);
        validator.ThrowIfInvalid();
        rateLimits.AdmitPasswordChange(id);
        var user = await accounts.LoadForChangeAsync(id, expectedVersion: 0, context.CancellationToken);
        var lockoutKey = SignInLockout.Key(id.ToString());
        var locked = await lockout.IsLockedAsync(lockoutKey, context.CancellationToken);
        var matches = await hashing.RunAsync(() => hasher.Verify(request.CurrentPassword, user.PasswordHash), context.CancellationToken);
        if (locked || !matches)
        {
            if (!matches)
            {
                await lockout.RecordFailureAsync(lockoutKey, context.CancellationToken);
            }
            throw InvalidCredentials();
        }
        new Validator().Problem("new_password", PasswordPolicy.Validate(request.NewPassword, user.Username, user.Email)).ThrowIfInvalid();
        user.PasswordHash = await hashing.RunAsync(() => hasher.Hash(request.NewPassword), context.CancellationToken);
        db.AddEvent(UserTopics.PasswordChanged, new PasswordChanged
        {
            UserId = id.ToString(),
            KeptSessionId = context.GetCaller() is { Kind: CallerKind.User, SessionId: { } session } caller && caller.UserId == id.ToString() ? session : "",
            OccurredAt = accounts.Now(),
        }, user.Master);
        await accounts.CommitChangeAsync(user, UserTopics.Updated,
            version => new UserUpdated { UserId = id.ToString(), ChangedFields = { "password" }, Version = version, OccurredAt = accounts.Now() }, context.CancellationToken);
        await lockout.ClearAsync(lockoutKey, context.CancellationToken);
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
        var user = await accounts.LoadForChangeAsync(id, expectedVersion: 0, context.CancellationToken);
        var assigned = user.Roles.FirstOrDefault(r => r.Role == role);
        if (assigned is not null)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
            if (role == Roles.Admin)
            {
                await accounts.EnsureAnotherAdministratorAsync(user, context.CancellationToken);
            }
            user.Roles.Remove(assigned);
            await accounts.CommitChangeAsync(user, UserTopics.RoleRemoved,
                _ => new RoleRemoved { UserId = id.ToString(), Role = role, OccurredAt = accounts.Now() }, context.CancellationToken);
            await transaction.CommitAsync(context.CancellationToken);
        }
        return RolesOf(user);
    }

    [Permission("user.roles.read", Owner = "user_id")]
    public override async Task<UserRoles> ListUserRoles(ListUserRolesRequest request, ServerCallContext context)
    {
        var id = RequireId(request.UserId);
        return RolesOf(await FindAsync(u => u.Master.Uuid == id, context.CancellationToken) ?? throw new NotFoundException(Entity, request.UserId));
    }

    [Permission("user.preferences.read", Owner = "user_id")]
    public override async Task<Preferences> GetPreferences(GetPreferencesRequest request, ServerCallContext context)
    {
        var validator = new Validator();
        var id = validator.Id("user_id", request.UserId);
        // An unknown category would otherwise read as "no preferences set".
        validator.Check("category", request.Category == "" || PreferenceRules.IsKnownCategory(request.Category),
            $"must be empty (every category) or one of {string.Join(", ", PreferenceRules.Categories)}");
        validator.ThrowIfInvalid();
        var user = await FindAsync(u => u.Master.Uuid == id, context.CancellationToken) ?? throw new NotFoundException(Entity, request.UserId);
        return await PreferencesOfAsync(user, request.Category, context.CancellationToken);
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
        // Tracked: the event links to the user's master row, and an untracked one would be inserted a second time.
        var user = await accounts.LoadForChangeAsync(id, expectedVersion: 0, context.CancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(context.CancellationToken);
        // One replacement at a time per user: two interleaved ones would leave a mix of both maps (or collide on a key).
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM service_user WHERE id = {user.Id} FOR UPDATE", context.CancellationToken);
        await db.Preferences.Where(p => p.UserId == user.Id && p.Category == request.Category).ExecuteDeleteAsync(context.CancellationToken);
        db.Preferences.AddRange(request.Values.Select(kv => new UserPreferenceRecord { UserId = user.Id, Category = request.Category, Key = kv.Key, Value = kv.Value }));
        db.AddEvent(UserTopics.PreferencesUpdated, new PreferencesUpdated
        {
            UserId = id.ToString(),
            Category = request.Category,
            OccurredAt = accounts.Now(),
        }, user.Master);
        await accounts.SaveAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
        return await PreferencesOfAsync(user, "", context.CancellationToken);
    }

    private async Task<Preferences> PreferencesOfAsync(UserRecord user, string category, CancellationToken cancellationToken)
    {
        var rows = await db.Preferences.AsNoTracking()
            .Where(p => p.UserId == user.Id && (category == "" || p.Category == category))
            .ToListAsync(cancellationToken);
        var preferences = new Preferences { UserId = user.Master.Uuid.ToString() };
        foreach (var group in rows.GroupBy(p => p.Category))
        {
            preferences.Categories[group.Key] = new PreferenceCategory { Values = { group.ToDictionary(p => p.Key, p => p.Value) } };
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

    private static UnauthenticatedException InvalidCredentials() => new("invalid credentials", "INVALID_CREDENTIALS");

    private Task<UserRecord?> FindAsync(System.Linq.Expressions.Expression<Func<UserRecord, bool>> match, CancellationToken cancellationToken) =>
        db.Users.Include(u => u.Master).Include(u => u.Roles).AsNoTracking()
            .Where(u => u.State != UserState.Deleted)
            .FirstOrDefaultAsync(match, cancellationToken);

    private static string EscapeLike(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
