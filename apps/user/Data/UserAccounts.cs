using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ovasabi.ServiceDefaults.Caching;
using Ovasabi.ServiceDefaults.Data;
using Ovasabi.ServiceDefaults.Grpc;
using Ovasabi.ServiceDefaults.Security;
using Ovasabi.User.Domain;
using Ovasabi.User.Events;
using Ovasabi.User.V1;
using Ovasabi.User.V1.Events;

namespace Ovasabi.User.Data;

/// <summary>
/// How users are written, for the API and for the start-up bootstrap alike. Every change bumps the user's version
/// (optimistic concurrency on <c>master</c>), writes its event into the outbox in the same transaction, and invalidates
/// the cached profile once committed.
/// </summary>
public sealed class UserAccounts(UserDbContext db, StateCache cache, PasswordHasher hasher, PasswordHashingGate hashing, SignInLockout lockout, TimeProvider time)
{
    public const string Entity = "user";

    private static readonly ProfileInput NoProfile = new("", "", "", "", "", null);

    /// <summary>Validates and creates an account with the <c>user</c> role, announced as <c>user.user.created</c>.</summary>
    /// <exception cref="InvalidArgumentException">The request breaks a rule (every problem is named).</exception>
    /// <exception cref="AlreadyExistsException">The username or the email address is taken.</exception>
    public async Task<UserRecord> CreateAsync(NewAccount request, CancellationToken cancellationToken)
    {
        var validator = new Validator();
        validator.Problem("username", Usernames.Validate(request.Username));
        validator.Problem("email", Emails.Validate(request.Email));
        validator.Problem("password", PasswordPolicy.Validate(request.Password, request.Username, request.Email));
        foreach (var problem in ProfileRules.Validate(request.Profile))
        {
            validator.Add(problem.Field, problem.Message);
        }
        validator.ThrowIfInvalid();

        var username = Usernames.Normalize(request.Username);
        var passwordHash = await hashing.RunAsync(() => hasher.Hash(request.Password), cancellationToken);
        var master = new MasterRecord { Type = Entity, Name = username };
        var user = new UserRecord
        {
            Master = master,
            Username = username,
            UsernameKey = Usernames.Canonical(request.Username),
            Email = Emails.Normalize(request.Email),
            EmailKey = Emails.Canonical(request.Email),
            PasswordHash = passwordHash,
            Roles = [new UserRoleRecord { Role = Roles.User, AssignedAt = time.GetUtcNow() }],
        };
        foreach (var field in ProfileRules.Fields)
        {
            Apply(user, request.Profile ?? NoProfile, field);
        }
        db.Users.Add(user);
        db.AddEvent(UserTopics.Created, new UserCreated
        {
            UserId = master.Uuid.ToString(),
            Username = user.Username,
            Email = user.Email,
            OccurredAt = Now(),
        }, master);
        await SaveAsync(cancellationToken);
        return user;
    }

    /// <summary>Changes what <paramref name="changes"/> names, announced as <c>user.user.updated</c> with the changed fields.</summary>
    public async Task<UserRecord> UpdateAsync(Guid id, long expectedVersion, AccountChanges changes, IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var user = await LoadForChangeAsync(id, expectedVersion, cancellationToken);
        if (changes.ChangesUsername)
        {
            user.Username = Usernames.Normalize(changes.Username);
            user.UsernameKey = Usernames.Canonical(changes.Username);
            user.Master.Name = user.Username;
        }
        if (changes.ChangesEmail)
        {
            user.Email = Emails.Normalize(changes.Email);
            user.EmailKey = Emails.Canonical(changes.Email);
        }
        foreach (var field in changes.ProfileFields)
        {
            Apply(user, changes.Profile, field);
        }
        // Events name the user by its canonical ID (as the created event did), not as the call spelt it (e.g. in upper case).
        await CommitChangeAsync(user, UserTopics.Updated,
            version => new UserUpdated { UserId = id.ToString(), ChangedFields = { paths }, Version = version, OccurredAt = Now() }, cancellationToken);
        return user;
    }

    /// <summary>Suspends a user <paramref name="caller"/> outranks, announced as <c>user.user.suspended</c>; suspending twice changes nothing.</summary>
    public async Task<UserRecord> SuspendAsync(Guid id, long expectedVersion, string reason, Caller caller, CancellationToken cancellationToken)
    {
        var user = await LoadForChangeAsync(id, expectedVersion, cancellationToken);
        caller.EnsureOutranks(user.Roles.Select(r => r.Role));
        if (user.State == UserState.Suspended)
        {
            // A retried call is harmless.
            return user;
        }
        user.State = UserState.Suspended;
        user.SuspensionReason = string.IsNullOrWhiteSpace(reason) ? null : reason;
        await CommitChangeAsync(user, UserTopics.Suspended, _ => new UserSuspended { UserId = id.ToString(), Reason = reason, OccurredAt = Now() }, cancellationToken);
        return user;
    }

    /// <summary>Reactivates a user <paramref name="caller"/> outranks, announced as <c>user.user.updated</c> (status); an active user stays as is.</summary>
    public async Task<UserRecord> ReactivateAsync(Guid id, long expectedVersion, Caller caller, CancellationToken cancellationToken)
    {
        var user = await LoadForChangeAsync(id, expectedVersion, cancellationToken);
        caller.EnsureOutranks(user.Roles.Select(r => r.Role));
        if (user.State == UserState.Active)
        {
            return user;
        }
        user.State = UserState.Active;
        user.SuspensionReason = null;
        await CommitChangeAsync(user, UserTopics.Updated,
            version => new UserUpdated { UserId = id.ToString(), ChangedFields = { "status" }, Version = version, OccurredAt = Now() }, cancellationToken);
        return user;
    }

    /// <summary>
    /// Deletes a user (soft: marked deleted; hard: the rows go, GDPR erasure), announced as <c>user.user.deleted</c>;
    /// never the last active administrator.
    /// </summary>
    public async Task DeleteAsync(Guid id, bool hard, CancellationToken cancellationToken)
    {
        var user = await db.Users.Include(u => u.Master).Include(u => u.Roles)
                       .FirstOrDefaultAsync(u => u.Master.Uuid == id && (hard || u.State != UserState.Deleted), cancellationToken)
                   ?? throw new NotFoundException(Entity, id.ToString());
        var deleted = new UserDeleted { UserId = id.ToString(), HardDelete = hard, OccurredAt = Now() };
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await EnsureAnotherAdministratorAsync(user, cancellationToken);
        if (hard)
        {
            // The event log keeps only that something happened to this user ID. Events not published yet are withheld
            // rather than redacted: the outbox would otherwise still announce the erased data, or send payloads that are
            // no valid event, under ids consumers may have seen with the real content. (A row the dispatcher is
            // publishing is locked; once it is stamped it is redacted below.)
            await db.ServiceEvents.Where(e => e.MasterId == user.MasterId && e.PublishedAt == null).ExecuteDeleteAsync(cancellationToken);
            await db.ServiceEvents.Where(e => e.MasterId == user.MasterId)
                .ExecuteUpdateAsync(e => e.SetProperty(x => x.Payload, "{\"redacted\": true}"), cancellationToken);
            db.Masters.Remove(user.Master);
            db.AddEvent(UserTopics.Deleted, deleted);
            await SaveAsync(cancellationToken);
        }
        else
        {
            user.State = UserState.Deleted;
            user.DeletedAt = time.GetUtcNow();
            user.Master.IsActive = false;
            await CommitChangeAsync(user, UserTopics.Deleted, _ => deleted, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        await InvalidateAsync(id, cancellationToken);
    }

    /// <summary>
    /// The live account a login (username or email) names, when the password is its own: Unauthenticated otherwise
    /// (the same work and answer whether the account exists or not), FailedPrecondition for a suspended account. Unless
    /// <paramref name="checkOnly"/>, records the sign-in and upgrades an outdated password hash.
    /// </summary>
    public async Task<UserRecord> VerifyCredentialsAsync(string login, string password, bool checkOnly, CancellationToken cancellationToken)
    {
        var key = login.Contains('@', StringComparison.Ordinal) ? Emails.Canonical(login) : Usernames.Canonical(login);
        var user = await db.Users.Include(u => u.Master).Include(u => u.Roles)
            .FirstOrDefaultAsync(u => (u.EmailKey == key || u.UsernameKey == key) && u.State != UserState.Deleted, cancellationToken);
        if (user is null)
        {
            // Same work and the same answer as a wrong password, so callers cannot probe which accounts exist.
            await hashing.RunAsync(() => hasher.VerifyAgainstDummy(password), cancellationToken);
            throw InvalidCredentials();
        }
        if (!await hashing.RunAsync(() => hasher.Verify(password, user.PasswordHash), cancellationToken))
        {
            throw InvalidCredentials();
        }
        if (user.State == UserState.Suspended)
        {
            throw new FailedPreconditionException("the account is suspended", "ACCOUNT_SUSPENDED");
        }
        if (!checkOnly)
        {
            user.LastLoginAt = time.GetUtcNow();
            if (hasher.NeedsRehash(user.PasswordHash))
            {
                user.PasswordHash = await hashing.RunAsync(() => hasher.Hash(password), cancellationToken);
            }
            await SaveAsync(cancellationToken);
            await InvalidateAsync(user.Master.Uuid, cancellationToken);
        }
        return user;
    }

    /// <summary>
    /// Changes a password given the current one. A wrong current password counts toward the account's sign-in lockout,
    /// and a locked account's password cannot be changed (the answer is the same as for a wrong one), so a stolen access
    /// token cannot be used to guess the password. Announced as <c>user.password.changed</c>, so every session but
    /// <paramref name="keptSessionId"/> ends.
    /// </summary>
    public async Task ChangePasswordAsync(Guid id, string currentPassword, string newPassword, string keptSessionId, CancellationToken cancellationToken)
    {
        var user = await LoadForChangeAsync(id, expectedVersion: 0, cancellationToken);
        var lockoutKey = SignInLockout.Key(id.ToString());
        var locked = await lockout.IsLockedAsync(lockoutKey, cancellationToken);
        var matches = await hashing.RunAsync(() => hasher.Verify(currentPassword, user.PasswordHash), cancellationToken);
        if (locked || !matches)
        {
            if (!matches)
            {
                await lockout.RecordFailureAsync(lockoutKey, cancellationToken);
            }
            throw InvalidCredentials();
        }
        new Validator().Problem("new_password", PasswordPolicy.Validate(newPassword, user.Username, user.Email)).ThrowIfInvalid();
        user.PasswordHash = await hashing.RunAsync(() => hasher.Hash(newPassword), cancellationToken);
        db.AddEvent(UserTopics.PasswordChanged, new PasswordChanged { UserId = id.ToString(), KeptSessionId = keptSessionId, OccurredAt = Now() }, user.Master);
        await CommitChangeAsync(user, UserTopics.Updated,
            version => new UserUpdated { UserId = id.ToString(), ChangedFields = { "password" }, Version = version, OccurredAt = Now() }, cancellationToken);
        await lockout.ClearAsync(lockoutKey, cancellationToken);
    }

    /// <summary>Takes a role from a user, announced as <c>user.role.removed</c>; never the last active administrator's admin role.</summary>
    public async Task<UserRecord> RemoveRoleAsync(Guid id, string role, CancellationToken cancellationToken)
    {
        var user = await LoadForChangeAsync(id, expectedVersion: 0, cancellationToken);
        var assigned = user.Roles.FirstOrDefault(r => r.Role == role);
        if (assigned is not null)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (role == Roles.Admin)
            {
                await EnsureAnotherAdministratorAsync(user, cancellationToken);
            }
            user.Roles.Remove(assigned);
            await CommitChangeAsync(user, UserTopics.RoleRemoved, _ => new RoleRemoved { UserId = id.ToString(), Role = role, OccurredAt = Now() }, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        return user;
    }

    /// <summary>Replaces the user's preferences of one category, announced as <c>user.preferences.updated</c>.</summary>
    public async Task<UserRecord> SetPreferencesAsync(Guid id, string category, IReadOnlyDictionary<string, string> values, CancellationToken cancellationToken)
    {
        // Tracked: the event links to the user's master row, and an untracked one would be inserted a second time.
        var user = await LoadForChangeAsync(id, expectedVersion: 0, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // One replacement at a time per user: two interleaved ones would leave a mix of both maps (or collide on a key).
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM service_user WHERE id = {user.Id} FOR UPDATE", cancellationToken);
        await db.Preferences.Where(p => p.UserId == user.Id && p.Category == category).ExecuteDeleteAsync(cancellationToken);
        db.Preferences.AddRange(values.Select(kv => new UserPreferenceRecord { UserId = user.Id, Category = category, Key = kv.Key, Value = kv.Value }));
        db.AddEvent(UserTopics.PreferencesUpdated, new PreferencesUpdated { UserId = id.ToString(), Category = category, OccurredAt = Now() }, user.Master);
        await SaveAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return user;
    }

    /// <summary>
    /// Gives a live user a role from the catalogue, announced as <c>user.role.assigned</c>; a role the user has already
    /// changes nothing, so a retried call is harmless.
    /// </summary>
    public async Task<UserRecord> AssignRoleAsync(Guid id, string role, CancellationToken cancellationToken)
    {
        var user = await LoadForChangeAsync(id, expectedVersion: 0, cancellationToken);
        if (user.Roles.All(r => r.Role != role))
        {
            if (user.Roles.Count >= Roles.MaxRolesPerUser)
            {
                throw new FailedPreconditionException($"a user has at most {Roles.MaxRolesPerUser} roles", "TOO_MANY_ROLES");
            }
            user.Roles.Add(new UserRoleRecord { Role = role, AssignedAt = time.GetUtcNow() });
            await CommitChangeAsync(user, UserTopics.RoleAssigned,
                _ => new RoleAssigned { UserId = id.ToString(), Role = role, OccurredAt = Now() }, cancellationToken);
        }
        return user;
    }

    /// <summary>
    /// Fails when deleting <paramref name="user"/> or taking its admin role would leave the platform without an active
    /// administrator (nobody could then give the role again). Call inside the transaction that makes the change: it takes
    /// a lock that serialises such changes, so two administrators cannot each remove the other at the same moment.
    /// </summary>
    public async Task EnsureAnotherAdministratorAsync(UserRecord user, CancellationToken cancellationToken)
    {
        if (user.Roles.All(r => r.Role != Roles.Admin))
        {
            return;
        }
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({AdministratorsLock})", cancellationToken);
        var others = await db.Users.CountAsync(u => u.Id != user.Id && u.State == UserState.Active && u.Roles.Any(r => r.Role == Roles.Admin), cancellationToken);
        if (others == 0)
        {
            throw new FailedPreconditionException(
                "the last active administrator cannot be deleted or lose the admin role: make another administrator first", "LAST_ADMINISTRATOR");
        }
    }

    // An arbitrary key of this database's advisory locks, for changes to who administers the platform.
    private const long AdministratorsLock = 0x7573_6572_6164_6d;

    /// <summary>Loads a live user for a change; <paramref name="expectedVersion"/> 0 skips the version check.</summary>
    public async Task<UserRecord> LoadForChangeAsync(Guid id, long expectedVersion, CancellationToken cancellationToken)
    {
        var user = await db.Users.Include(u => u.Master).Include(u => u.Roles)
                       .FirstOrDefaultAsync(u => u.Master.Uuid == id && u.State != UserState.Deleted, cancellationToken)
                   ?? throw new NotFoundException(Entity, id.ToString());
        if (expectedVersion != 0 && expectedVersion != user.Master.Version)
        {
            throw new VersionConflictException(Entity, expectedVersion, user.Master.Version);
        }
        return user;
    }

    /// <summary>
    /// Bumps the version, records the event (built from the new version) and saves both in one transaction; then drops
    /// the cached profile.
    /// </summary>
    public async Task CommitChangeAsync(UserRecord user, string topic, Func<long, IMessage> payload, CancellationToken cancellationToken)
    {
        user.Master.Version++;
        db.AddEvent(topic, payload(user.Master.Version), user.Master);
        await SaveAsync(cancellationToken);
        await InvalidateAsync(user.Master.Uuid, cancellationToken);
    }

    /// <summary>Saves, turning a taken username or email into AlreadyExists naming the field.</summary>
    public async Task SaveAsync(CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (Taken(e) is { } taken)
        {
            throw taken;
        }
    }

    public Task InvalidateAsync(Guid id, CancellationToken cancellationToken) =>
        cache.InvalidateAsync(Entity, [ProfileKey(id)], cancellationToken);

    /// <summary>Where the user's profile is cached.</summary>
    public string ProfileKey(Guid id) => cache.Key(Entity, id.ToString(), "profile");

    public Timestamp Now() => Timestamp.FromDateTimeOffset(time.GetUtcNow());

    private static UnauthenticatedException InvalidCredentials() => new("invalid credentials", "INVALID_CREDENTIALS");

    /// <summary>Copies one profile field (a <see cref="ProfileRules.Fields"/> name) onto the stored user.</summary>
    private static void Apply(UserRecord user, ProfileInput profile, string field)
    {
        switch (field)
        {
            case ProfileRules.DisplayName: user.DisplayName = Empty(profile.DisplayName); break;
            case ProfileRules.AvatarUrl: user.AvatarUrl = Empty(profile.AvatarUrl); break;
            case ProfileRules.Bio: user.Bio = Empty(profile.Bio); break;
            case ProfileRules.Locale: user.Locale = Empty(profile.Locale); break;
            case ProfileRules.TimeZone: user.TimeZone = Empty(profile.TimeZone); break;
            case ProfileRules.CustomFields: user.CustomFields = profile.CustomFieldsJson; break;
            default: throw new ArgumentOutOfRangeException(nameof(field), field, "not a profile field");
        }
    }

    private static string? Empty(string value) => string.IsNullOrEmpty(value) ? null : value;

    private static AlreadyExistsException? Taken(DbUpdateException error) =>
        (error.InnerException as PostgresException) is { SqlState: PostgresErrorCodes.UniqueViolation } unique
            ? unique.ConstraintName switch
            {
                "ix_service_user_username_key" => new AlreadyExistsException("username", "the username is taken"),
                "ix_service_user_email_key" => new AlreadyExistsException("email", "the email address is already registered"),
                _ => null,
            }
            : null;
}
